"""Dev tokens: the local stack's stand-in for Cognito. RS256 ID tokens signed with a per-run key
whose public half is served as a JWKS, as a user pool serves its own: the WebSocket authorizer
verifies them exactly as it verifies Cognito's."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "mt-backend-local"
# The app client a Cognito ID token names in `aud`.
AUDIENCE = "mt-backend-local-dashboard"
TOKEN_LIFETIME_S = 12 * 3600
JWKS_PATH = "/.well-known/jwks.json"


@dataclass
class DevTokens:
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    key_id: str = field(default_factory=lambda: secrets.token_hex(8))

    def issue(self, user_id: str) -> str:
        now = int(time.time())
        claims = {
            "sub": user_id,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_S,
            "token_use": "id",
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.key_id})

    def verify(self, token: str) -> dict[str, str] | None:
        """The token's claims if it is ours and unexpired, else None."""
        try:
            claims = jwt.decode(
                token,
                self.key.public_key(),
                algorithms=["RS256"],
                issuer=ISSUER,
                audience=AUDIENCE,
                options={"require": ["sub", "exp"]},
            )
        except jwt.PyJWTError:
            return None
        return {name: str(value) for name, value in claims.items()}

    def jwks(self) -> dict[str, Any]:
        """The signing key's public half, as Cognito serves its keys."""
        key: dict[str, Any] = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [key | {"kid": self.key_id, "alg": "RS256", "use": "sig"}]}

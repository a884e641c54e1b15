"""Dev tokens: the local stack's stand-in for Cognito. HS256 JWTs signed with a per-run key."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

import jwt

ISSUER = "mt-backend-local"
TOKEN_LIFETIME_S = 12 * 3600


@dataclass
class DevTokens:
    key: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def issue(self, user_id: str) -> str:
        now = int(time.time())
        claims = {"sub": user_id, "iss": ISSUER, "iat": now, "exp": now + TOKEN_LIFETIME_S, "token_use": "id"}
        return jwt.encode(claims, self.key, algorithm="HS256")

    def verify(self, token: str) -> dict[str, str] | None:
        """The token's claims if it is ours and unexpired, else None."""
        try:
            claims = jwt.decode(
                token, self.key, algorithms=["HS256"], issuer=ISSUER, options={"require": ["sub", "exp"]}
            )
        except jwt.PyJWTError:
            return None
        return {name: str(value) for name, value in claims.items()}

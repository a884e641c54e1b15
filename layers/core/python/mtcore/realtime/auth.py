"""Who opens a WebSocket: the Cognito ID token a browser passes as `?token=` (it cannot set headers
on a WebSocket), verified against the user pool's signing keys, fetched once and kept by the
container. The token's `sub` is the tenant, as on the HTTPS API."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from mtcore.settings import get_settings

if TYPE_CHECKING:
    import jwt

# Keys are kept this long; a token signed with a key not seen yet fetches them again at once.
KEYS_KEPT_S = 3600


class TokenVerifier:
    def __init__(self, *, jwks_url: str, issuer: str, audience: str | None) -> None:
        import jwt

        self._keys: jwt.PyJWKClient = jwt.PyJWKClient(
            jwks_url, cache_keys=True, lifespan=KEYS_KEPT_S, timeout=5
        )
        self._issuer = issuer
        self._audience = audience

    def subject(self, token: str) -> str | None:
        """The token's `sub` when it is a valid, unexpired ID token of ours; else None."""
        import jwt

        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": ["sub", "exp", "iss"], "verify_aud": self._audience is not None},
            )
        except jwt.PyJWTError:
            return None
        subject = claims.get("sub")
        if claims.get("token_use") != "id" or not isinstance(subject, str) or not subject:
            return None
        return subject


@lru_cache(maxsize=1)
def get_token_verifier() -> TokenVerifier:
    settings = get_settings()
    if not settings.jwks_url or not settings.jwt_issuer:
        raise RuntimeError("JWKS_URL and JWT_ISSUER are not configured")
    return TokenVerifier(
        jwks_url=settings.jwks_url, issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )

"""MetaApi tokens in Secrets Manager: the platform's, and one secret per user who stored their own.

Token values are only ever returned to the code that calls MetaApi: never logged, never stored in
DynamoDB, never answered to a caller.
"""

from __future__ import annotations

from functools import lru_cache

from mtcore.aws import secretsmanager_client
from mtcore.errors import DomainError
from mtcore.secrets import SecretStore
from mtcore.settings import get_settings

# A stored or removed token reaches other containers within this time.
CACHE_SECONDS = 60.0


class PlatformTokenMissing(DomainError):
    code = "METAAPI_NOT_CONFIGURED"

    def __init__(self) -> None:
        super().__init__("No MetaApi token is configured for this deployment")


class MetaApiTokens:
    def __init__(self, secrets: SecretStore, *, user_prefix: str, platform_secret_id: str | None) -> None:
        # Own store rather than Powertools parameters': "no token stored" must be kept too, or
        # every request of a user without a token would cost a Secrets Manager call.
        self._secrets = secrets
        self._user_prefix = user_prefix.rstrip("/")
        self._platform_secret_id = platform_secret_id

    def secret_name(self, user_id: str) -> str:
        return f"{self._user_prefix}/{user_id}/metaapi-token"

    def put_user_token(self, user_id: str, token: str) -> None:
        self._secrets.put(
            self.secret_name(user_id),
            token,
            description="A user's own MetaApi token (auth-token), used for their accounts",
        )

    def delete_user_token(self, user_id: str) -> None:
        self._secrets.delete(self.secret_name(user_id))

    def user_token(self, user_id: str) -> str | None:
        return self._secrets.read(self.secret_name(user_id))

    def platform_token(self) -> str:
        token = self._secrets.read(self._platform_secret_id) if self._platform_secret_id else None
        if not token:
            raise PlatformTokenMissing()
        return token

    def token_for(self, owner_id: str) -> str:
        """The token every MetaApi call for this owner's accounts uses: theirs, else the platform's."""
        return self.user_token(owner_id) or self.platform_token()


@lru_cache(maxsize=1)
def get_tokens() -> MetaApiTokens:
    """The container's token store: its cache lives as long as the container."""
    settings = get_settings()
    return MetaApiTokens(
        SecretStore(secretsmanager_client(), kept_s=CACHE_SECONDS),
        user_prefix=settings.token_secret_prefix,
        platform_secret_id=settings.platform_token_secret_id,
    )

"""MetaApi tokens in Secrets Manager: the platform's, and one secret per user who stored their own.

Token values are only ever returned to the code that calls MetaApi: never logged, never stored in
DynamoDB, never answered to a caller.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from mtcore.aws import secretsmanager_client
from mtcore.errors import DomainError
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

# A stored or removed token reaches other containers within this time.
CACHE_SECONDS = 60.0


class PlatformTokenMissing(DomainError):
    code = "METAAPI_NOT_CONFIGURED"

    def __init__(self) -> None:
        super().__init__("No MetaApi token is configured for this deployment")


class MetaApiTokens:
    def __init__(
        self,
        client: SecretsManagerClient,
        *,
        user_prefix: str,
        platform_secret_id: str | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._user_prefix = user_prefix.rstrip("/")
        self._platform_secret_id = platform_secret_id
        self._clock = clock
        # Own cache rather than Powertools parameters': "no token stored" must be cached too, or
        # every request of a user without a token would cost a Secrets Manager call.
        self._cache: dict[str, tuple[str | None, float]] = {}

    def secret_name(self, user_id: str) -> str:
        return f"{self._user_prefix}/{user_id}/metaapi-token"

    def put_user_token(self, user_id: str, token: str) -> None:
        name = self.secret_name(user_id)
        try:
            self._client.put_secret_value(SecretId=name, SecretString=token)
        except self._client.exceptions.ResourceNotFoundException:
            self._client.create_secret(
                Name=name,
                SecretString=token,
                Description="A user's own MetaApi token (auth-token), used for their accounts",
            )
        self._cache[name] = (token, self._clock())

    def delete_user_token(self, user_id: str) -> None:
        name = self.secret_name(user_id)
        # At once, not after a recovery window: the user can store a new token right away.
        with contextlib.suppress(self._client.exceptions.ResourceNotFoundException):
            self._client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        self._cache[name] = (None, self._clock())

    def user_token(self, user_id: str) -> str | None:
        return self._read(self.secret_name(user_id))

    def platform_token(self) -> str:
        token = self._read(self._platform_secret_id) if self._platform_secret_id else None
        if not token:
            raise PlatformTokenMissing()
        return token

    def token_for(self, owner_id: str) -> str:
        """The token every MetaApi call for this owner's accounts uses: theirs, else the platform's."""
        return self.user_token(owner_id) or self.platform_token()

    def _read(self, secret_id: str) -> str | None:
        cached = self._cache.get(secret_id)
        if cached and self._clock() - cached[1] < CACHE_SECONDS:
            return cached[0]
        try:
            value: str | None = self._client.get_secret_value(SecretId=secret_id).get("SecretString")
        except self._client.exceptions.ResourceNotFoundException:
            value = None
        self._cache[secret_id] = (value, self._clock())
        return value


@lru_cache(maxsize=1)
def get_tokens() -> MetaApiTokens:
    """The container's token store: its cache lives as long as the container."""
    settings = get_settings()
    return MetaApiTokens(
        secretsmanager_client(),
        user_prefix=settings.token_secret_prefix,
        platform_secret_id=settings.platform_token_secret_id,
    )

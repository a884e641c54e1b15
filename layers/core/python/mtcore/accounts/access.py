"""Which MetaApi token a call uses, and a client bound to it with the request's time budget."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from mtcore.accounts.models import Account, TokenSource
from mtcore.accounts.tokens import MetaApiTokens, get_tokens
from mtcore.errors import Conflict
from mtcore.metaapi.client import MetaApiClient
from mtcore.metaapi.http import Deadline, http_pool
from mtcore.settings import Settings, get_settings

if TYPE_CHECKING:
    import urllib3


class UserTokenMissing(Conflict):
    code = "METAAPI_TOKEN_MISSING"

    def __init__(self) -> None:
        super().__init__(
            "This account was linked with your own MetaApi token, which is no longer stored: "
            "store it again with PUT /api/metatrader/settings/metaapi-token"
        )


@dataclass(frozen=True)
class MetaApiAccess:
    tokens: MetaApiTokens
    settings: Settings
    http: urllib3.PoolManager

    def with_token(self, token: str) -> MetaApiClient:
        return MetaApiClient(
            token,
            http=self.http,
            provisioning_url=self.settings.metaapi_provisioning_url,
            client_url_template=self.settings.metaapi_client_url_template,
            deadline=Deadline(self.settings.metaapi_request_budget_s),
        )

    def platform(self) -> MetaApiClient:
        return self.with_token(self.tokens.platform_token())

    def for_account(self, account: Account) -> MetaApiClient:
        return self.with_token(self.token_for(account))

    def token_for(self, account: Account) -> str:
        """The token that serves the account: its owner's when it was linked with it."""
        if account.token_source is TokenSource.USER:
            token = self.tokens.user_token(account.user_id)
            if token is None:
                raise UserTokenMissing()
            return token
        return self.tokens.platform_token()


@lru_cache(maxsize=1)
def get_metaapi_access() -> MetaApiAccess:
    return MetaApiAccess(get_tokens(), get_settings(), http_pool())

"""A user's own MetaApi token: stored after MetaApi accepts it, never shown again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field, SecretStr

from mtcore.errors import InvalidInput
from mtcore.metaapi.errors import MetaApiTokenRefused
from mtcore.models import CamelModel
from mtcore.observability import logger

if TYPE_CHECKING:
    from mtcore.accounts.access import MetaApiAccess


class TokenInput(CamelModel):
    # SecretStr: the value never shows in a repr, a log line or a validation error.
    token: Annotated[SecretStr, Field(min_length=8, max_length=8192, description="Your MetaApi API token")]


class TokenStatus(CamelModel):
    metaapi_token_set: bool = Field(description="Whether you stored your own MetaApi token")


def store_token(user_id: str, request: TokenInput, *, access: MetaApiAccess) -> TokenStatus:
    token = request.token.get_secret_value().strip()
    # It travels as an HTTP header: printable ASCII without spaces, as every MetaApi token is.
    if not token or not token.isascii() or not token.isprintable() or " " in token:
        raise InvalidInput("body.token", "must be a MetaApi token: printable ASCII without spaces")
    try:
        access.with_token(token).list_accounts(limit=1)
    except MetaApiTokenRefused:
        raise InvalidInput("body.token", "MetaApi refused this token") from None
    access.tokens.put_user_token(user_id, token)
    logger.info("user MetaApi token stored")
    return TokenStatus(metaapi_token_set=True)


def token_status(user_id: str, *, access: MetaApiAccess) -> TokenStatus:
    return TokenStatus(metaapi_token_set=access.tokens.user_token(user_id) is not None)


def delete_token(user_id: str, *, access: MetaApiAccess) -> None:
    access.tokens.delete_user_token(user_id)
    logger.info("user MetaApi token removed")

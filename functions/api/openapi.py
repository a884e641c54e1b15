"""What the routes share: where they live, the security requirement and the error answers."""

from __future__ import annotations

from typing import Any

from mtcore.errors import ErrorBody

API_PREFIX = "/api"
METATRADER_PREFIX = f"{API_PREFIX}/metatrader"
COGNITO_SCHEME = "cognito"
SIGNED_IN: list[dict[str, list[str]]] = [{COGNITO_SCHEME: []}]


def location(*parts: str) -> str:
    """The URL path of a resource under the MetaTrader routes, for a `Location` header."""
    return "/".join((METATRADER_PREFIX, *parts))


def error_answer(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


def answers(success: str, errors: dict[int, Any], *, status: int = 200) -> dict[int, Any]:
    """A route's documented answers: its success (body from its return type) and its errors."""
    return {status: {"description": success}, **errors}


PUBLIC_ERRORS: dict[int, Any] = {
    400: error_answer("A body that is not UTF-8 text or not valid JSON"),
    413: error_answer("A body over 64 KiB"),
    415: error_answer("A body that is not sent as application/json"),
    422: error_answer("Invalid input; `details` names each field"),
    500: error_answer("Unexpected failure; nothing about it is exposed"),
}
SIGNED_IN_ERRORS: dict[int, Any] = {
    401: error_answer("Missing or invalid bearer token"),
    **PUBLIC_ERRORS,
}
ACCOUNT_ERRORS: dict[int, Any] = {
    404: error_answer("No such account among the caller's (another user's account looks the same)"),
    **SIGNED_IN_ERRORS,
}
METAAPI_ERRORS: dict[int, Any] = {
    409: error_answer("The account's terminal is not connected to the broker, or its token is gone"),
    429: error_answer("MetaApi's rate limit: retry after `Retry-After` seconds"),
    502: error_answer("MetaApi could not be reached or refused the token"),
    504: error_answer("MetaApi did not answer in time"),
}
LIVE_ERRORS: dict[int, Any] = {**ACCOUNT_ERRORS, **METAAPI_ERRORS}
LINK_ERRORS: dict[int, Any] = {
    404: error_answer("No MetaApi account the caller may link under that id"),
    **SIGNED_IN_ERRORS,
    **METAAPI_ERRORS,
    409: error_answer("This MetaApi account is already linked"),
}

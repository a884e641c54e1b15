"""OpenAPI declarations shared by the routes: the security requirement and the error answers."""

from __future__ import annotations

from typing import Any

from mtcore.errors import ErrorBody

COGNITO_SCHEME = "cognito"
SIGNED_IN: list[dict[str, list[str]]] = [{COGNITO_SCHEME: []}]


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


def answers(success: str, errors: dict[int, Any]) -> dict[int, Any]:
    """A route's documented answers: its success (body from its return type) and its errors."""
    return {200: {"description": success}, **errors}


PUBLIC_ERRORS: dict[int, Any] = {
    422: _error("Invalid input; `details` names each field"),
    500: _error("Unexpected failure; nothing about it is exposed"),
}
SIGNED_IN_ERRORS: dict[int, Any] = {
    401: _error("Missing or invalid bearer token"),
    **PUBLIC_ERRORS,
}

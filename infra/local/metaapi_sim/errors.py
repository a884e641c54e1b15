"""MetaApi's REST error answers: `{id, error, message, details?, metadata?}` by HTTP status."""

from __future__ import annotations

from typing import Any

ERROR_NAMES = {
    400: "ValidationError",
    401: "UnauthorizedError",
    403: "ForbiddenError",
    404: "NotFoundError",
    409: "NotConnectedError",
    429: "TooManyRequestsError",
    500: "InternalError",
}


class ApiError(Exception):
    """Raised anywhere while handling a request; the app turns it into the JSON error answer."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        details: Any = None,
        metadata: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        error: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        # Most errors are named by their status; a few share one (QuotaExceededError is a 400).
        self.error = error or ERROR_NAMES[status]
        self.details = details
        self.metadata = metadata
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": 1, "error": self.error, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        if self.metadata is not None:
            body["metadata"] = self.metadata
        return body


def invalid(message: str, *, parameter: str | None = None, value: Any = None) -> ApiError:
    """A 400 whose `details` follows MetaApi's `[{parameter, value?, message}]` shape."""
    if parameter is None:
        return ApiError(400, message)
    detail: dict[str, Any] = {"parameter": parameter, "message": message}
    if value is not None:
        detail["value"] = value
    return ApiError(400, "Validation failed", details=[detail])


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def not_connected() -> ApiError:
    return ApiError(409, "Account is not connected to the broker yet")


def not_authenticated() -> ApiError:
    return ApiError(
        409,
        "Authorization failed: the broker refused the account's login and password",
        error="NotAuthenticatedError",
    )

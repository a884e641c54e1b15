"""MetaApi failures as domain errors: each already knows its HTTP answer to our own callers."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from mtcore.errors import DomainError


class MetaApiError(DomainError):
    """Something MetaApi answered, or failed to answer. `error_name` is MetaApi's own name."""

    status = HTTPStatus.BAD_GATEWAY
    code = "UPSTREAM_ERROR"

    def __init__(self, message: str, *, error_name: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.upstream_details = details


class MetaApiNotFound(MetaApiError):
    status = HTTPStatus.NOT_FOUND
    code = "NOT_FOUND"


class MetaApiValidation(MetaApiError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "UPSTREAM_VALIDATION_ERROR"


class MetaApiTokenRefused(MetaApiError):
    """401/403: the token is invalid, or lacks the right for this call."""

    code = "METAAPI_TOKEN_REFUSED"


class MetaApiUnauthorized(MetaApiTokenRefused):
    """401: MetaApi does not accept the token at all."""


class MetaApiForbidden(MetaApiTokenRefused):
    """403: the token is valid but may not make this call."""


class MetaApiNotConnected(MetaApiError):
    """The terminal is not connected to the broker (or not synchronized) yet."""

    status = HTTPStatus.CONFLICT
    code = "ACCOUNT_NOT_CONNECTED"


class MetaApiUnavailable(MetaApiError):
    """5xx, connection refused or reset: MetaApi could not answer."""

    code = "UPSTREAM_UNAVAILABLE"


class MetaApiMalformed(MetaApiUnavailable):
    """An answer we cannot read (missing or mistyped fields). For a trade, as unclear as no
    answer at all: the outcome is unknown."""

    code = "UPSTREAM_MALFORMED"


class MetaApiTimeout(MetaApiError):
    """No answer within the call's deadline. For a trade, the outcome is unknown."""

    status = HTTPStatus.GATEWAY_TIMEOUT
    code = "UPSTREAM_TIMEOUT"


class MetaApiRateLimited(MetaApiError):
    status = HTTPStatus.TOO_MANY_REQUESTS
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after_seconds: float, details: Any = None) -> None:
        super().__init__(message, error_name="TooManyRequestsError", details=details)
        self.retry_after_seconds = retry_after_seconds

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, round(self.retry_after_seconds + 0.49)))}

"""Domain errors and the one place that turns them into HTTP answers.

Logic and repositories raise these; the API maps them with `http_error_of`. Each error carries
a stable machine-readable `code` and a message meant for the person reading it. Messages never
contain secrets, tokens or stack traces.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FieldProblem(BaseModel):
    """One invalid input: where it is (`body.volume`, `query.limit`) and what is wrong with it."""

    # Built on first use, like every model here: most requests never answer an error.
    model_config = ConfigDict(defer_build=True)

    field: str
    message: str
    limit: str | None = Field(default=None, description="For a broken trading rule: the broker's limit")
    value: str | None = Field(default=None, description="For a broken trading rule: the value sent")


class ErrorBody(BaseModel):
    """The JSON body of every error the API answers."""

    model_config = ConfigDict(defer_build=True)

    code: str = Field(description="Stable machine-readable error code, e.g. VALIDATION_ERROR")
    message: str = Field(description="A sentence a person can act on")
    details: list[FieldProblem] | None = Field(default=None, description="Invalid fields, when any")


class DomainError(Exception):
    """Base of every expected failure. Subclasses fix the HTTP status and the code."""

    status: HTTPStatus = HTTPStatus.INTERNAL_SERVER_ERROR
    code: str = "INTERNAL_ERROR"

    def __init__(self, message: str, *, details: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def headers(self) -> dict[str, str]:
        """Extra response headers (e.g. Retry-After) the error implies."""
        return {}


class Unauthorized(DomainError):
    status = HTTPStatus.UNAUTHORIZED
    code = "UNAUTHORIZED"


class NotFound(DomainError):
    status = HTTPStatus.NOT_FOUND
    code = "NOT_FOUND"


class Conflict(DomainError):
    status = HTTPStatus.CONFLICT
    code = "CONFLICT"


class InvalidInput(DomainError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "VALIDATION_ERROR"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", details=[FieldProblem(field=field, message=message)])


class TradeRefused(DomainError):
    """A pre-trade check refused the order before it was queued: `code` names the rule."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY

    def __init__(
        self, code: str, field: str, message: str, *, limit: object = None, value: object = None
    ) -> None:
        problem = FieldProblem(
            field=field,
            message=message,
            limit=None if limit is None else str(limit),
            value=None if value is None else str(value),
        )
        super().__init__(message, details=[problem])
        self.code = code


class RateLimited(DomainError):
    status = HTTPStatus.TOO_MANY_REQUESTS
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = max(1, retry_after_seconds)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class UpstreamUnavailable(DomainError):
    status = HTTPStatus.BAD_GATEWAY
    code = "UPSTREAM_UNAVAILABLE"


class UpstreamTimeout(DomainError):
    status = HTTPStatus.GATEWAY_TIMEOUT
    code = "UPSTREAM_TIMEOUT"


def http_error_of(error: DomainError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, JSON body and headers for a domain error: the single error-to-HTTP mapping."""
    body = ErrorBody(code=error.code, message=error.message, details=error.details)
    return int(error.status), body.model_dump(exclude_none=True), error.headers()


def validation_problems(errors: list[dict[str, Any]]) -> list[FieldProblem]:
    """Turn pydantic-style error entries (`loc`, `msg`) into named field problems."""
    problems = []
    for entry in errors:
        location = [str(part) for part in entry.get("loc", ()) if part != "__root__"]
        problems.append(
            FieldProblem(field=".".join(location) or "request", message=str(entry.get("msg", "")))
        )
    return problems

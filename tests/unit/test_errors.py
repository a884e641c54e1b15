from __future__ import annotations

import pytest

from mtcore.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthorized,
    UpstreamTimeout,
    UpstreamUnavailable,
    http_error_of,
    validation_problems,
)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (Unauthorized("sign in"), 401, "UNAUTHORIZED"),
        (NotFound("no such account"), 404, "NOT_FOUND"),
        (Conflict("already linked"), 409, "CONFLICT"),
        (UpstreamUnavailable("MetaApi is unreachable"), 502, "UPSTREAM_UNAVAILABLE"),
        (UpstreamTimeout("MetaApi took too long"), 504, "UPSTREAM_TIMEOUT"),
        (DomainError("unexpected"), 500, "INTERNAL_ERROR"),
    ],
)
def test_each_error_maps_to_its_status_and_code(error: DomainError, status: int, code: str) -> None:
    answered_status, body, headers = http_error_of(error)

    assert answered_status == status
    assert body == {"code": code, "message": error.message}
    assert headers == {}


def test_invalid_input_names_the_field() -> None:
    status, body, _ = http_error_of(InvalidInput("query.limit", "must be at most 100"))

    assert status == 422
    assert body["code"] == "VALIDATION_ERROR"
    assert body["details"] == [{"field": "query.limit", "message": "must be at most 100"}]
    assert "query.limit" in body["message"]


def test_rate_limited_carries_retry_after_and_never_zero() -> None:
    _, _, headers = http_error_of(RateLimited("slow down", retry_after_seconds=7))
    _, _, floor_headers = http_error_of(RateLimited("slow down", retry_after_seconds=0))

    assert headers == {"Retry-After": "7"}
    assert floor_headers == {"Retry-After": "1"}


def test_validation_problems_join_locations() -> None:
    problems = validation_problems(
        [
            {"loc": ("query", "limit"), "msg": "Input should be less than or equal to 100"},
            {"loc": ("body", "orders", 0, "volume"), "msg": "Field required"},
            {"loc": (), "msg": "Invalid JSON"},
        ]
    )

    assert [(p.field, p.message) for p in problems] == [
        ("query.limit", "Input should be less than or equal to 100"),
        ("body.orders.0.volume", "Field required"),
        ("request", "Invalid JSON"),
    ]

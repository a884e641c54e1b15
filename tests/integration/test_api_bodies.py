"""Bad input is never a 500: every body the API can receive, on every route that takes one (read
from the OpenAPI document, so a new route is covered without a new test), gets a 4xx in the one
error shape with a sentence that says what to send; so do odd path and query parameters."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.api.bodies import MAX_BODY_BYTES
from functions.api.resolver import openapi_json
from tests.integration.conftest import Answer, Api

DOCUMENT = json.loads(openapi_json())
BODY_ROUTES = [
    (method.upper(), path)
    for path, operations in DOCUMENT["paths"].items()
    for method, operation in operations.items()
    if "requestBody" in operation
]
GET_ROUTES = [path for path, operations in DOCUMENT["paths"].items() if "get" in operations and "{" in path]
VALID_JSON = json.dumps({"metaapiAccountId": "demo", "symbol": "EURUSD", "token": "a-metaapi-token"}).encode()


def _path(template: str, account_id: str, filler: str = "1") -> str:
    """The route with the caller's own account, so each request gets past the ownership check."""
    path = template.replace("{account_id}", account_id)
    while "{" in path:
        start = path.index("{")
        path = path[:start] + filler + path[path.index("}", start) + 1 :]
    return path


def _refused(answer: Answer, status: int, code: str, says: str, *, route: str) -> None:
    assert (answer.status, answer.body["code"]) == (status, code), (route, answer.body)
    assert says in answer.body["message"], route
    assert set(answer.body) <= {"code", "message", "details"}, route


def test_every_body_route_is_covered() -> None:
    assert len(BODY_ROUTES) >= 7
    for method, path in BODY_ROUTES:
        content = DOCUMENT["paths"][path][method.lower()]["requestBody"]["content"]
        assert list(content) == ["application/json"], (method, path)


@pytest.mark.parametrize(
    ("content_type", "raw", "status", "code", "says"),
    [
        (
            "text/plain",
            VALID_JSON,
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "Content-Type: application/json (not text/plain)",
        ),
        (
            "application/x-www-form-urlencoded",
            b"symbol=EURUSD",
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "takes a JSON body",
        ),
        ("multipart/form-data", VALID_JSON, 415, "UNSUPPORTED_MEDIA_TYPE", "takes a JSON body"),
        ("application/json", b"\xff\xfe\x170\x1d>", 400, "INVALID_BODY", "not UTF-8 text"),
        ("application/json", b"\x170\x1d>", 400, "INVALID_BODY", "not valid JSON"),
        ("application/json", b'{"symbol": ', 400, "INVALID_BODY", "not valid JSON"),
        ("application/json", b"[1, 2]", 422, "VALIDATION_ERROR", "must be a JSON object ({…}), not an array"),
        ("application/json", b'"EURUSD"', 422, "VALIDATION_ERROR", "not a string"),
        ("application/json", b"", 422, "VALIDATION_ERROR", "needs a JSON object as its body"),
        (
            "application/json",
            b" " * (MAX_BODY_BYTES + 1),
            413,
            "PAYLOAD_TOO_LARGE",
            f"at most {MAX_BODY_BYTES}",
        ),
    ],
    ids=[
        "json-as-text",
        "form",
        "multipart",
        "not-utf8",
        "not-json",
        "cut-short",
        "array",
        "string",
        "empty",
        "too-large",
    ],
)
def test_a_body_no_route_can_read_is_a_clear_4xx_on_every_body_route(
    api: Api, linked: tuple[str, str], content_type: str, raw: bytes, status: int, code: str, says: str
) -> None:
    _, account_id = linked

    for method, route in BODY_ROUTES:
        answer = api.call(
            method,
            _path(route, account_id),
            user="alice",
            raw_body=raw,
            headers={"Content-Type": content_type},
        )

        _refused(answer, status, code, says, route=f"{method} {route}")


@pytest.mark.parametrize(
    "odd", ["%C3%9C", "Ü", "a" * 5000, "..", "%00"], ids=["escaped", "unicode", "long", "dots", "nul"]
)
def test_odd_path_parameters_are_a_4xx_on_every_route(api: Api, linked: tuple[str, str], odd: str) -> None:
    _, account_id = linked

    for route in GET_ROUTES:
        # The odd value as the account, then (the account being the caller's) as each other parameter
        paths = [_path(route, odd, filler=odd)]
        if route.replace("{account_id}", "").count("{"):
            paths.append(_path(route, account_id, filler=odd))

        for path in paths:
            answer = api.call("GET", path, user="alice")
            assert 400 <= answer.status < 500, (route, answer.body)
            assert set(answer.body) <= {"code", "message", "details"}


def test_odd_query_parameters_are_a_4xx(api: Api, linked: tuple[str, str]) -> None:
    _, account_id = linked
    queries: list[dict[str, Any]] = [
        {"limit": "Ü"},
        {"nextToken": "%C3%9C" * 100},
        {"status": "\x00"},
    ]

    answers = [
        api.call("GET", f"/api/metatrader/accounts/{account_id}/trades", user="alice", query=query)
        for query in queries
    ]
    live = api.call(
        "GET", f"/api/metatrader/accounts/{account_id}/positions", user="alice", query={"live": "maybe"}
    )

    for query, answer in zip([*queries, {"live": "maybe"}], [*answers, live], strict=True):
        assert answer.status == 422, (query, answer.body)
        assert answer.body["code"] == "VALIDATION_ERROR"

from __future__ import annotations

from infra.openapi import OPENAPI_FILE, rendered


def test_checked_in_openapi_matches_the_routes() -> None:
    assert OPENAPI_FILE.read_text() == rendered(), "docs/openapi.json is stale: run `make openapi`"


def test_every_route_but_health_requires_the_bearer_token() -> None:
    import json

    paths = json.loads(rendered())["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            expected: list[dict[str, list[str]]] | None = None if path == "/api/health" else [{"cognito": []}]
            assert operation.get("security") == expected, f"{method.upper()} {path}"

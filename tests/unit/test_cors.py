from __future__ import annotations

from typing import Any

from functions.api.cors import with_cors


def _answer() -> dict[str, Any]:
    return {"statusCode": 200, "body": "{}", "multiValueHeaders": {"Content-Type": ["application/json"]}}


def _event(origin: str | None) -> dict[str, Any]:
    return {"headers": {"origin": origin} if origin else {}}


def test_any_origin_allowed_with_a_star() -> None:
    response = with_cors(_answer(), _event("https://x.example"), ["*"])

    assert response["multiValueHeaders"]["Access-Control-Allow-Origin"] == ["*"]
    assert "Vary" not in response["multiValueHeaders"]


def test_listed_origin_is_echoed_and_varies() -> None:
    response = with_cors(
        _answer(), _event("https://app.example"), ["https://app.example", "https://b.example"]
    )

    assert response["multiValueHeaders"]["Access-Control-Allow-Origin"] == ["https://app.example"]
    assert response["multiValueHeaders"]["Vary"] == ["Origin"]


def test_unlisted_origin_gets_no_cors_headers() -> None:
    response = with_cors(_answer(), _event("https://evil.example"), ["https://app.example"])

    assert "Access-Control-Allow-Origin" not in response["multiValueHeaders"]

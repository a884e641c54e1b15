"""CORS headers on every API answer, errors included, so a browser can read them.

Preflight requests are answered by API Gateway from the same origin list (see infra)."""

from __future__ import annotations

from typing import Any


def with_cors(response: dict[str, Any], event: dict[str, Any], allowed_origins: list[str]) -> dict[str, Any]:
    headers = event.get("headers") or {}
    origin = next((value for name, value in headers.items() if name.lower() == "origin"), None)
    if "*" in allowed_origins:
        allow = "*"
    elif origin in allowed_origins:
        allow = origin
    else:
        return response
    multi = response.setdefault("multiValueHeaders", {})
    multi["Access-Control-Allow-Origin"] = [allow]
    multi["Access-Control-Expose-Headers"] = ["Location,Retry-After"]
    if allow != "*":
        multi["Vary"] = ["Origin"]
    return response

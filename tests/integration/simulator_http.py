"""Calls to the MetaApi simulator through werkzeug's test client, as a MetaApi user (by auth-token)."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.test import Client, TestResponse

TOKEN = "token-alice"
OTHER = "token-bob"
ACCOUNTS = "/users/current/accounts"


def get(http: Client, path: str, *, token: str | None = TOKEN, **headers: str) -> TestResponse:
    return http.get(path, headers=_headers(token, headers))


def post(
    http: Client, path: str, body: Any = None, *, token: str | None = TOKEN, **headers: str
) -> TestResponse:
    return http.post(path, json=body, headers=_headers(token, headers))


def put(
    http: Client, path: str, body: Any = None, *, token: str | None = TOKEN, **headers: str
) -> TestResponse:
    return http.put(path, json=body, headers=_headers(token, headers))


def delete(http: Client, path: str, *, token: str | None = TOKEN) -> TestResponse:
    return http.delete(path, headers=_headers(token, {}))


def _headers(token: str | None, extra: dict[str, str]) -> dict[str, str]:
    """`transaction_id="..."` sends the `transaction-id` header."""
    named = {name.replace("_", "-"): value for name, value in extra.items()}
    return named if token is None else {"auth-token": token, **named}


def js(answer: TestResponse) -> Any:
    return json.loads(answer.get_data())


def at(account_id: str, suffix: str = "") -> str:
    return f"{ACCOUNTS}/{account_id}{suffix}"

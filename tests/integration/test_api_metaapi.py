"""The account and read API against the MetaApi simulator, through the real handler."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest

from mtcore.accounts.repository import get_accounts_repository
from tests.conftest import LogCapture
from tests.integration.conftest import PLATFORM_TOKEN, Api, Simulator

ACCOUNTS = "/api/metatrader/accounts"
TOKEN_PATH = "/api/metatrader/settings/metaapi-token"


def _link(api: Api, user: str, metaapi_id: str, **fields: Any) -> Any:
    return api.call("POST", ACCOUNTS, user=user, body={"metaapiAccountId": metaapi_id, **fields})


def _table_dump() -> str:
    table = get_accounts_repository()._table_name
    return json.dumps(boto3.client("dynamodb").scan(TableName=table)["Items"])


# Linking: who may link what ----------------------------------------------------------------


def test_an_account_the_platform_created_for_a_user_is_linkable_by_that_user(
    api: Api, simulator: Simulator
) -> None:
    metaapi_id = simulator.account(metadata={"userId": "alice"}, login="5550001", balance=Decimal("25000.50"))

    answer = _link(api, "alice", metaapi_id, name="Main", syncInterval=120)

    assert answer.status == 201, answer.body
    account = answer.body
    assert answer.headers["Location"] == [f"{ACCOUNTS}/{account['id']}"]
    assert account["metaapiAccountId"] == metaapi_id
    assert account["name"] == "Main"
    assert account["syncInterval"] == 120
    assert account["login"] == "5550001"
    assert account["region"] == "london"
    assert account["tokenSource"] == "platform"
    assert account["state"] == "DEPLOYED"
    assert account["connectionStatus"] == "CONNECTED"
    assert account["balance"] == 25000.5
    assert account["currency"] == "USD"
    assert api.call("GET", f"{ACCOUNTS}/{account['id']}", user="alice").body == account


def test_someone_else_cannot_link_it_and_learns_nothing(api: Api, simulator: Simulator) -> None:
    alices = simulator.account(metadata={"userId": "alice"})

    refused = _link(api, "bob", alices)
    missing = _link(api, "bob", "no-such-account")

    assert refused.status == 404
    assert missing.status == 404
    assert refused.body["message"].replace(alices, "X") == missing.body["message"].replace(
        "no-such-account", "X"
    )


def test_an_account_readable_with_the_users_own_token_is_linkable(api: Api, simulator: Simulator) -> None:
    own_token = "alice-own-metaapi-token"
    metaapi_id = simulator.account(own_token)
    assert api.call("PUT", TOKEN_PATH, user="alice", body={"token": own_token}).status == 200

    answer = _link(api, "alice", metaapi_id)
    refused = _link(api, "bob", metaapi_id)

    assert answer.status == 201, answer.body
    assert answer.body["tokenSource"] == "user"
    assert refused.status == 404


def test_an_operator_may_link_any_platform_account_and_nobody_else(
    api: Api, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPERATOR_USER_IDS", "ops-1,ops-2")
    metaapi_id = simulator.account()  # no owner in its metadata

    assert _link(api, "mallory", metaapi_id).status == 404
    assert _link(api, "ops-2", metaapi_id).status == 201


def test_an_account_is_linked_once(api: Api, simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_USER_IDS", "ops")
    metaapi_id = simulator.account(metadata={"userId": "alice"})
    assert _link(api, "alice", metaapi_id).status == 201

    again = _link(api, "alice", metaapi_id)
    by_operator = _link(api, "ops", metaapi_id)  # can see it, so learns it is taken
    by_stranger = _link(api, "bob", metaapi_id)  # cannot see it: still a 404

    assert (again.status, again.body["code"]) == (409, "CONFLICT")
    assert by_operator.status == 409
    assert by_stranger.status == 404
    assert len(api.call("GET", ACCOUNTS, user="alice").body["items"]) == 1


def test_a_disconnected_account_links_without_a_snapshot(api: Api, simulator: Simulator) -> None:
    metaapi_id = simulator.account(metadata={"userId": "alice"})
    simulator.undeploy(metaapi_id)

    answer = _link(api, "alice", metaapi_id)

    assert answer.status == 201
    assert answer.body["state"] == "UNDEPLOYED"
    assert "balance" not in answer.body or answer.body["balance"] is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"metaapiAccountId": ""},
        {"metaapiAccountId": "../etc"},
        {"metaapiAccountId": "a", "syncInterval": 1},
    ],
)
def test_malformed_link_requests_are_422_naming_the_field(
    api: Api, simulator: Simulator, body: dict[str, Any]
) -> None:
    answer = api.call("POST", ACCOUNTS, user="alice", body=body)

    assert answer.status == 422
    assert answer.body["details"][0]["field"].startswith("body")


# The account routes -------------------------------------------------------------------------


def test_rename_and_sync_settings_then_unlink(api: Api, simulator: Simulator) -> None:
    account_id = _link(api, "alice", simulator.account(metadata={"userId": "alice"})).body["id"]

    renamed = api.call(
        "PUT", f"{ACCOUNTS}/{account_id}", user="alice", body={"name": "Swing", "autoSyncOrders": False}
    )
    empty = api.call("PUT", f"{ACCOUNTS}/{account_id}", user="alice", body={})
    nulls = api.call(
        "PUT", f"{ACCOUNTS}/{account_id}", user="alice", body={"name": None, "syncInterval": None}
    )
    kept = api.call("GET", f"{ACCOUNTS}/{account_id}", user="alice")
    removed = api.call("DELETE", f"{ACCOUNTS}/{account_id}", user="alice")

    assert renamed.status == 200
    assert (renamed.body["name"], renamed.body["autoSyncOrders"]) == ("Swing", False)
    assert empty.status == 422
    assert nulls.status == 422
    assert kept.body["name"] == "Swing"
    assert removed.status == 204
    assert api.call("GET", f"{ACCOUNTS}/{account_id}", user="alice").status == 404
    assert api.call("GET", ACCOUNTS, user="alice").body["items"] == []


def test_an_unlinked_account_can_be_linked_again(api: Api, simulator: Simulator) -> None:
    metaapi_id = simulator.account(metadata={"userId": "alice"})
    first = _link(api, "alice", metaapi_id).body["id"]
    api.call("DELETE", f"{ACCOUNTS}/{first}", user="alice")

    assert _link(api, "alice", metaapi_id).status == 201


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PUT", "", {"name": "mine now"}),
        ("DELETE", "", None),
        ("GET", "/positions", None),
        ("GET", "/positions?live=true", None),
        ("GET", "/positions/{position}", None),
        ("GET", "/symbols", None),
        ("GET", "/symbols/EURUSD", None),
        ("GET", "/quotes/EURUSD", None),
    ],
)
def test_another_tenants_account_is_404_on_every_route(
    api: Api, simulator: Simulator, method: str, suffix: str, body: Any
) -> None:
    metaapi_id = simulator.account(metadata={"userId": "alice"})
    account_id = _link(api, "alice", metaapi_id).body["id"]
    position = simulator.open_position(metaapi_id)
    path, _, query = f"{ACCOUNTS}/{account_id}{suffix.format(position=position['id'])}".partition("?")

    answer = api.call(method, path, user="bob", body=body, query=dict([query.split("=")]) if query else None)

    assert answer.status == 404
    assert answer.body["code"] == "NOT_FOUND"
    assert api.call("GET", f"{ACCOUNTS}/{account_id}", user="alice").status == 200  # untouched


# Reads ----------------------------------------------------------------------------------------


def test_live_positions_are_stored_and_then_served_from_the_store(api: Api, simulator: Simulator) -> None:
    metaapi_id = simulator.account(metadata={"userId": "alice"})
    account_id = _link(api, "alice", metaapi_id).body["id"]
    opened = simulator.open_position(metaapi_id, "XAUUSD", "POSITION_TYPE_SELL", 0.3)

    before = api.call("GET", f"{ACCOUNTS}/{account_id}/positions", user="alice")
    live = api.call("GET", f"{ACCOUNTS}/{account_id}/positions", user="alice", query={"live": "true"})
    stored = api.call("GET", f"{ACCOUNTS}/{account_id}/positions", user="alice")
    one = api.call("GET", f"{ACCOUNTS}/{account_id}/positions/{opened['id']}", user="alice")

    assert before.body == []
    assert [p["id"] for p in live.body] == [opened["id"]]
    assert live.body[0]["volume"] == 0.3
    assert live.body[0]["openPrice"] == opened["openPrice"]
    assert stored.body == live.body  # exact numbers survive DynamoDB
    assert one.body == live.body[0]


def test_an_unchanged_live_read_writes_nothing(api: Api, simulator: Simulator) -> None:
    metaapi_id = simulator.account(metadata={"userId": "alice"})
    account_id = _link(api, "alice", metaapi_id).body["id"]
    simulator.open_position(metaapi_id)
    simulator.set_price("EURUSD", 1.1, 1.1001)
    api.call("GET", f"{ACCOUNTS}/{account_id}/positions", user="alice", query={"live": "true"})
    writes: list[str] = []
    get_accounts_repository()._client.meta.events.register(
        "before-call.dynamodb.BatchWriteItem", lambda **kwargs: writes.append("batch")
    )

    api.call("GET", f"{ACCOUNTS}/{account_id}/positions", user="alice", query={"live": "true"})

    assert writes == []


def test_symbols_specification_and_quote(api: Api, simulator: Simulator) -> None:
    account_id = _link(api, "alice", simulator.account(metadata={"userId": "alice"})).body["id"]
    simulator.set_price("USDJPY", 151.234, 151.251)

    symbols = api.call("GET", f"{ACCOUNTS}/{account_id}/symbols", user="alice")
    spec = api.call("GET", f"{ACCOUNTS}/{account_id}/symbols/XAUUSD", user="alice")
    quote = api.call("GET", f"{ACCOUNTS}/{account_id}/quotes/USDJPY", user="alice")
    unknown = api.call("GET", f"{ACCOUNTS}/{account_id}/symbols/NOPE", user="alice")

    assert {"EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "US30", "BTCUSD"} <= set(symbols.body)
    assert spec.body["symbol"] == "XAUUSD"
    assert spec.body["contractSize"] == 100
    assert spec.body["digits"] == 2
    assert (quote.body["bid"], quote.body["ask"]) == (151.234, 151.251)
    assert unknown.status == 404


# MetaApi failures, mapped ----------------------------------------------------------------------


@pytest.fixture
def alices_account(api: Api, simulator: Simulator) -> tuple[str, str]:
    metaapi_id = simulator.account(metadata={"userId": "alice"})
    return metaapi_id, _link(api, "alice", metaapi_id).body["id"]


def _live_positions(api: Api, account_id: str) -> Any:
    return api.call("GET", f"{ACCOUNTS}/{account_id}/positions", user="alice", query={"live": "true"})


def test_metaapi_429_becomes_our_429_with_retry_after(
    api: Api, simulator: Simulator, alices_account: tuple[str, str]
) -> None:
    metaapi_id, account_id = alices_account
    simulator.fault(metaapi_id, "positions", "http_429", retryAfterSeconds=40)

    answer = _live_positions(api, account_id)

    assert answer.status == 429
    assert answer.body["code"] == "RATE_LIMITED"
    assert 39 <= int(answer.headers["Retry-After"][0]) <= 41


def test_a_brief_metaapi_5xx_is_retried_away(
    api: Api, simulator: Simulator, alices_account: tuple[str, str]
) -> None:
    metaapi_id, account_id = alices_account
    simulator.fault(metaapi_id, "positions", "http_500", count=2)

    assert _live_positions(api, account_id).status == 200


def test_metaapi_down_is_502(api: Api, simulator: Simulator, alices_account: tuple[str, str]) -> None:
    metaapi_id, account_id = alices_account
    simulator.fault(metaapi_id, "positions", "http_500", count=10)

    answer = _live_positions(api, account_id)

    assert (answer.status, answer.body["code"]) == (502, "UPSTREAM_UNAVAILABLE")


def test_metaapi_unreachable_is_502(
    api: Api, simulator: Simulator, alices_account: tuple[str, str], new_container: Callable[[str, str], None]
) -> None:
    _, account_id = alices_account
    new_container("METAAPI_CLIENT_URL_TEMPLATE", "http://127.0.0.1:9")  # nothing listens there

    answer = _live_positions(api, account_id)

    assert (answer.status, answer.body["code"]) == (502, "UPSTREAM_UNAVAILABLE")


def test_an_answer_from_metaapi_we_cannot_read_is_502_not_500(
    api: Api, simulator: Simulator, alices_account: tuple[str, str]
) -> None:
    metaapi_id, account_id = alices_account
    simulator.fault(metaapi_id, "current-price", "malformed")

    answer = api.call("GET", f"{ACCOUNTS}/{account_id}/quotes/EURUSD", user="alice")

    assert (answer.status, answer.body["code"]) == (502, "UPSTREAM_MALFORMED")
    assert "cannot read" in answer.body["message"]


def test_a_slow_metaapi_is_504_within_the_budget(
    api: Api, simulator: Simulator, alices_account: tuple[str, str], new_container: Callable[[str, str], None]
) -> None:
    metaapi_id, account_id = alices_account
    new_container("METAAPI_REQUEST_BUDGET_S", "0.5")
    simulator.fault(metaapi_id, "positions", "timeout", delaySeconds=2)

    answer = _live_positions(api, account_id)

    assert (answer.status, answer.body["code"]) == (504, "UPSTREAM_TIMEOUT")


def test_not_connected_is_409_with_a_reason(
    api: Api, simulator: Simulator, alices_account: tuple[str, str]
) -> None:
    metaapi_id, account_id = alices_account
    simulator.fault(metaapi_id, "positions", "not_connected")

    answer = _live_positions(api, account_id)

    assert (answer.status, answer.body["code"]) == (409, "ACCOUNT_NOT_CONNECTED")
    assert "connected" in answer.body["message"]


# The user's own token ------------------------------------------------------------------------


def test_a_stored_token_is_never_shown_logged_or_put_in_the_table(
    api: Api, simulator: Simulator, logs: LogCapture
) -> None:
    token = "alice-secret-metaapi-token-0123456789"

    stored = api.call("PUT", TOKEN_PATH, user="alice", body={"token": token})
    status = api.call("GET", TOKEN_PATH, user="alice")
    bobs = api.call("GET", TOKEN_PATH, user="bob")
    bad = api.call("PUT", TOKEN_PATH, user="alice", body={"token": "has spaces in it"})

    assert (stored.status, stored.body) == (200, {"metaapiTokenSet": True})
    assert status.body == {"metaapiTokenSet": True}
    assert bobs.body == {"metaapiTokenSet": False}
    assert bad.status == 422
    everything = json.dumps([stored.body, status.body, bad.body]) + logs.text + _table_dump()
    assert token not in everything
    assert "has spaces in it" not in everything


def test_a_removed_token_is_gone(api: Api, simulator: Simulator) -> None:
    api.call("PUT", TOKEN_PATH, user="alice", body={"token": "alice-token-to-remove"})

    removed = api.call("DELETE", TOKEN_PATH, user="alice")
    again = api.call("DELETE", TOKEN_PATH, user="alice")

    assert (removed.status, again.status) == (204, 204)
    assert api.call("GET", TOKEN_PATH, user="alice").body == {"metaapiTokenSet": False}


def test_accounts_linked_with_a_removed_token_say_so(api: Api, simulator: Simulator) -> None:
    own_token = "alice-own-token-for-this"
    metaapi_id = simulator.account(own_token)
    api.call("PUT", TOKEN_PATH, user="alice", body={"token": own_token})
    account_id = _link(api, "alice", metaapi_id).body["id"]
    api.call("DELETE", TOKEN_PATH, user="alice")

    answer = _live_positions(api, account_id)

    assert (answer.status, answer.body["code"]) == (409, "METAAPI_TOKEN_MISSING")


def test_the_platform_token_serves_platform_accounts(api: Api, simulator: Simulator) -> None:
    metaapi_id = simulator.account(PLATFORM_TOKEN, metadata={"userId": "alice"})
    account_id = _link(api, "alice", metaapi_id).body["id"]
    simulator.open_position(metaapi_id)

    assert len(_live_positions(api, account_id).body) == 1


def test_a_body_not_sent_as_json_is_415_saying_so(api: Api, simulator: Simulator) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    answer = api.call("POST", ACCOUNTS, user="alice", body={"metaapiAccountId": "x"}, headers=form)
    with_charset = api.call(
        "POST", ACCOUNTS, user="alice", body={}, headers={"Content-Type": "application/json; charset=utf-8"}
    )

    assert (answer.status, answer.body["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert "application/json" in answer.body["message"]
    assert with_charset.status == 422  # read as JSON: the missing field is named

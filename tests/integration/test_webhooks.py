"""Webhook signals end to end in-process: the management routes, the intake function as API
Gateway calls it, and the executor resolving each account's part against the simulator."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from infra.local.queues import QueuePoller
from mtcore.signals.auth import signature_of
from mtcore.trading.queue import get_trade_queue
from mtcore.trading.repository import get_trades_repository
from mtcore.trading.sweeper import sweep
from tests.conftest import LogCapture
from tests.integration.conftest import TRADINGVIEW_IP, Answer, Api, Simulator, post_alert, trades_log

WEBHOOKS = "/api/metatrader/webhooks"
ACCOUNTS = "/api/metatrader/accounts"


def _drain(poller: QueuePoller, rounds: int = 60) -> None:
    for _ in range(rounds):
        if poller.poll_once() == 0:
            return


def _link(api: Api, simulator: Simulator, user: str = "alice", **fields: Any) -> tuple[str, str]:
    metaapi_id = simulator.account(metadata={"userId": user}, **fields)
    answer = api.call("POST", ACCOUNTS, user=user, body={"metaapiAccountId": metaapi_id})
    assert answer.status == 201, answer.body
    return metaapi_id, answer.body["id"]


def _webhook(api: Api, account_ids: list[str], user: str = "alice", **settings: Any) -> dict[str, Any]:
    answer = api.call("POST", WEBHOOKS, user=user, body={"name": "tv", "accountIds": account_ids, **settings})
    assert answer.status == 201, answer.body
    created: dict[str, Any] = answer.body
    return created


def _json_alert(secret: str, **fields: Any) -> str:
    return json.dumps({"action": "buy", "symbol": "EURUSD", **fields, "secret": secret})


def _signal(api: Api, hook: dict[str, Any], signal_id: str) -> dict[str, Any]:
    answer = api.call("GET", f"{WEBHOOKS}/{hook['id']}/signals/{signal_id}", user="alice")
    assert answer.status == 200, answer.body
    signal: dict[str, Any] = answer.body
    return signal


def _sides(simulator: Simulator, metaapi_id: str) -> list[tuple[str, str, float]]:
    return sorted((p["symbol"], p["type"], p["volume"]) for p in simulator.sim_positions(metaapi_id))


@pytest.fixture
def account(api: Api, simulator: Simulator) -> tuple[str, str]:
    return _link(api, simulator)


# Managing webhooks -------------------------------------------------------------------------------


def test_a_webhook_is_created_with_a_secret_shown_once(api: Api, account: tuple[str, str]) -> None:
    _, account_id = account
    created = api.call("POST", WEBHOOKS, user="alice", body={"name": "breakout", "accountIds": [account_id]})
    assert created.status == 201, created.body
    body = created.body
    assert body["url"].endswith(f"/api/webhooks/{body['id']}")
    assert body["secret"].startswith("whsec_")
    assert len(body["secret"]) >= 28
    assert created.headers["Location"] == [f"{WEBHOOKS}/{body['id']}"]
    # Sensible defaults.
    assert body["sizing"] == {"mode": "fixed", "volume": 0.01}
    assert (body["pyramiding"], body["closeOpposite"], body["shadow"]) == (True, False, False)
    assert (body["dedupeWindowSeconds"], body["rateLimitPerMinute"]) == (60, 60)
    shown = api.call("GET", f"{WEBHOOKS}/{body['id']}", user="alice").body
    listed = api.call("GET", WEBHOOKS, user="alice").body["items"]
    assert "secret" not in shown
    assert "secretDigest" not in shown
    assert [hook["id"] for hook in listed] == [body["id"]]
    assert "secret" not in listed[0]


def test_webhooks_name_only_the_callers_accounts_and_are_only_theirs(
    api: Api, simulator: Simulator, account: tuple[str, str]
) -> None:
    _, alices = account
    _, bobs = _link(api, simulator, user="bob")
    refused = api.call("POST", WEBHOOKS, user="alice", body={"name": "x", "accountIds": [alices, bobs]})
    assert refused.status == 404, refused.body
    hook = _webhook(api, [alices])
    for method in ("GET", "DELETE"):
        assert api.call(method, f"{WEBHOOKS}/{hook['id']}", user="bob").status == 404
    assert api.call("POST", f"{WEBHOOKS}/{hook['id']}/secret", user="bob").status == 404
    assert api.call("GET", f"{WEBHOOKS}/{hook['id']}/signals", user="bob").status == 404
    changed = api.call(
        "PUT", f"{WEBHOOKS}/{hook['id']}", user="bob", body={"name": "y", "accountIds": [bobs]}
    )
    assert changed.status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "accountIds": []}, "accountIds"),
        ({"name": "x", "accountIds": ["a", "a"]}, "accountIds"),
        ({"name": "x", "accountIds": ["a"], "pyramidding": False}, "pyramidding"),
        ({"name": "x", "accountIds": ["a"], "auth": {"allowedIps": ["10.0.0.300"]}}, "allowedIps"),
        ({"name": "x", "accountIds": ["a"], "rateLimitPerMinute": 0}, "rateLimitPerMinute"),
        ({"name": "x", "accountIds": ["a"], "sizing": {"mode": "risk_percent"}}, "sizing"),
    ],
)
def test_bad_settings_are_a_422_naming_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    answer = api.call("POST", WEBHOOKS, user="alice", body=body)
    assert answer.status == 422, answer.body
    assert field in answer.body["message"]


def test_a_webhook_is_changed_rotated_and_removed(api: Api, account: tuple[str, str]) -> None:
    _, account_id = account
    hook = _webhook(api, [account_id])
    changed = api.call(
        "PUT",
        f"{WEBHOOKS}/{hook['id']}",
        user="alice",
        body={"name": "renamed", "accountIds": [account_id], "shadow": True},
    )
    assert changed.status == 200, changed.body
    assert (changed.body["name"], changed.body["shadow"]) == ("renamed", True)
    rotated = api.call("POST", f"{WEBHOOKS}/{hook['id']}/secret", user="alice").body
    assert rotated["secret"] != hook["secret"]
    assert post_alert(hook["id"], _json_alert(hook["secret"], volume=0.1)).status == 401
    assert post_alert(hook["id"], _json_alert(rotated["secret"], volume=0.1)).status == 202
    assert api.call("DELETE", f"{WEBHOOKS}/{hook['id']}", user="alice").status == 204
    assert api.call("GET", f"{WEBHOOKS}/{hook['id']}", user="alice").status == 404
    assert post_alert(hook["id"], _json_alert(rotated["secret"], volume=0.1)).status == 401


# Formats and commands ----------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/json", "text/plain; charset=utf-8", None])
def test_a_json_alert_becomes_a_position_whatever_its_content_type(
    api: Api,
    simulator: Simulator,
    account: tuple[str, str],
    executor_poller: QueuePoller,
    content_type: str | None,
) -> None:
    metaapi_id, account_id = account
    hook = _webhook(api, [account_id])
    answer = post_alert(hook["id"], _json_alert(hook["secret"], volume=0.2, sl=20), content_type=content_type)
    assert answer.status == 202, answer.body
    assert answer.body["outcome"] == "accepted"
    (target,) = answer.body["accounts"]
    assert (target["accountId"], target["status"]) == (account_id, "QUEUED")
    _drain(executor_poller)
    (position,) = simulator.sim_positions(metaapi_id)
    assert (position["symbol"], position["type"], position["volume"]) == ("EURUSD", "POSITION_TYPE_BUY", 0.2)
    assert position["stopLoss"] == pytest.approx(position["openPrice"] - 0.002, abs=0.0002)
    signal = _signal(api, hook, answer.body["signalId"])
    assert signal["targets"][0]["status"] == "EXECUTED", signal
    assert signal["targets"][0]["tradeId"] == target["tradeId"]
    assert signal["commands"][0]["command"] == "buy"
    assert signal["contentType"] == content_type
    assert signal["sourceIp"] == TRADINGVIEW_IP
    assert hook["secret"] not in signal["body"]
    assert '"secret": "***"' in signal["body"]


def test_pineconnector_lines_are_several_commands_run_in_order(
    api: Api, simulator: Simulator, account: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = account
    hook = _webhook(api, [account_id], sizing={"mode": "fixed", "volume": 0.1})
    simulator.open_position(metaapi_id, "EURUSD", "POSITION_TYPE_SELL", 0.3)
    secret = hook["secret"]
    answer = post_alert(
        hook["id"],
        f"{secret},closeshort,EURUSD\n{secret},buy,EURUSD,risk=0.4,sl=25,tp=50",
        content_type="text/plain",
    )
    assert answer.status == 202, answer.body
    assert [target["command"] for target in answer.body["accounts"]] == ["closeshort", "buy"]
    _drain(executor_poller)
    # risk= read through the webhook's fixed sizing: 0.4 lots.
    assert _sides(simulator, metaapi_id) == [("EURUSD", "POSITION_TYPE_BUY", 0.4)]
    signal = _signal(api, hook, answer.body["signalId"])
    assert [target["status"] for target in signal["targets"]] == ["EXECUTED", "EXECUTED"]
    assert hook["secret"] not in signal["body"]
    assert signal["body"].startswith("***,closeshort")


def test_every_command(
    api: Api, simulator: Simulator, account: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = account
    # `short` repeats `sell`: outside any dedupe window, both are traded.
    hook = _webhook(api, [account_id], dedupeWindowSeconds=0)
    secret = hook["secret"]

    def send(line: str) -> dict[str, Any]:
        answer = post_alert(hook["id"], f"{secret},{line}", content_type="text/plain")
        assert answer.status == 202, (line, answer.body)
        _drain(executor_poller)
        target: dict[str, Any] = _signal(api, hook, answer.body["signalId"])["targets"][0]
        return target

    quote = simulator.session.get(
        f"{simulator.url}/users/current/accounts/{metaapi_id}/symbols/EURUSD/current-price",
        headers={"auth-token": "platform.token.under-test"},
        timeout=5,
    ).json()
    bid, ask = quote["bid"], quote["ask"]
    assert send("buy,EURUSD")["status"] == "EXECUTED"
    assert send("long,EURUSD,risk=0.02")["status"] == "EXECUTED"
    assert send("sell,GBPUSD")["status"] == "EXECUTED"
    assert send("short,GBPUSD")["status"] == "EXECUTED"
    for line in (
        f"buylimit,EURUSD,price={round(ask - 0.005, 5)}",
        f"buystop,EURUSD,price={round(ask + 0.005, 5)}",
        f"selllimit,EURUSD,price={round(bid + 0.005, 5)}",
        f"sellstop,EURUSD,price={round(bid - 0.005, 5)}",
    ):
        assert send(line)["status"] == "PLACED", line
    orders = simulator.session.get(
        f"{simulator.url}/users/current/accounts/{metaapi_id}/orders",
        headers={"auth-token": "platform.token.under-test"},
        timeout=5,
    ).json()
    assert sorted(order["type"] for order in orders) == [
        "ORDER_TYPE_BUY_LIMIT",
        "ORDER_TYPE_BUY_STOP",
        "ORDER_TYPE_SELL_LIMIT",
        "ORDER_TYPE_SELL_STOP",
    ]
    changed = send("newsltplong,EURUSD,sl=30,tp=60")
    assert changed["status"] == "EXECUTED"
    assert len(changed["children"]) == 2
    for position in simulator.sim_positions(metaapi_id):
        if position["symbol"] == "EURUSD":
            assert position["stopLoss"] == pytest.approx(position["openPrice"] - 0.003, abs=1e-6)
            assert position["takeProfit"] == pytest.approx(position["openPrice"] + 0.006, abs=1e-6)
    assert send("newsltpshort,GBPUSD,tp=40")["status"] == "EXECUTED"
    assert all(p["takeProfit"] for p in simulator.sim_positions(metaapi_id) if p["symbol"] == "GBPUSD")
    assert send("cancellong,EURUSD")["status"] == "EXECUTED"
    assert send("cancelshort,EURUSD")["status"] == "EXECUTED"
    assert send("closelong,EURUSD")["status"] == "EXECUTED"
    assert [p["symbol"] for p in simulator.sim_positions(metaapi_id)] == ["GBPUSD", "GBPUSD"]
    nothing = send("closelong,EURUSD")
    assert (nothing["status"], nothing["code"]) == ("CANCELED", "SIGNAL_NOTHING_TO_DO")
    assert send("closeall,GBPUSD")["status"] == "EXECUTED"
    assert simulator.sim_positions(metaapi_id) == []
    assert (
        simulator.session.get(
            f"{simulator.url}/users/current/accounts/{metaapi_id}/orders",
            headers={"auth-token": "platform.token.under-test"},
            timeout=5,
        ).json()
        == []
    )


def test_an_alert_that_cannot_be_read_is_a_422_that_says_why_and_is_logged(
    api: Api, account: tuple[str, str]
) -> None:
    _, account_id = account
    hook = _webhook(api, [account_id])
    answer = post_alert(hook["id"], f"{hook['secret']},buy,EURUSD,risk=lots", content_type="text/plain")
    assert answer.status == 422, answer.body
    assert "risk= must be a number" in answer.body["message"]
    broken = post_alert(
        hook["id"], '{{"action": "buy", "symbol": "EURUSD", "secret": "{}", '.format(hook["secret"])
    )
    assert broken.status == 422
    assert "does not parse" in broken.body["message"]
    log = api.call("GET", f"{WEBHOOKS}/{hook['id']}/signals", user="alice").body["items"]
    assert [(s["outcome"], s["id"]) for s in log] == [
        ("invalid", broken.body["signalId"]),
        ("invalid", answer.body["signalId"]),
    ]
    assert all(hook["secret"] not in s["body"] for s in log)
    assert "risk= must be a number" in log[1]["reason"]


# Exactly once ------------------------------------------------------------------------------------


def test_twenty_concurrent_duplicates_make_one_broker_order(
    api: Api, simulator: Simulator, account: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = account
    hook = _webhook(api, [account_id])
    body = _json_alert(hook["secret"], volume=0.1, signalId="tv-42")
    answers: list[Answer] = []
    lock = threading.Lock()

    def send() -> None:
        answer = post_alert(hook["id"], body)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _drain(executor_poller)
    statuses = sorted(answer.status for answer in answers)
    assert statuses == [200] * 19 + [202]
    first = next(answer for answer in answers if answer.status == 202).body["signalId"]
    assert {answer.body["duplicateOf"] for answer in answers if answer.status == 200} == {first}
    assert len(trades_log(simulator, metaapi_id)) == 1
    assert len(simulator.sim_positions(metaapi_id)) == 1


def test_the_same_alert_without_signal_id_is_a_duplicate_only_inside_the_window(
    api: Api, simulator: Simulator, account: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = account
    hook = _webhook(api, [account_id], dedupeWindowSeconds=2)
    body = _json_alert(hook["secret"], volume=0.1)
    assert post_alert(hook["id"], body).status == 202
    repeat = post_alert(hook["id"], body)
    assert (repeat.status, repeat.body["outcome"]) == (200, "duplicate")
    time.sleep(2.2)
    assert post_alert(hook["id"], body).status == 202
    _drain(executor_poller)
    assert len(simulator.sim_positions(metaapi_id)) == 2
    outcomes = [
        s["outcome"] for s in api.call("GET", f"{WEBHOOKS}/{hook['id']}/signals", user="alice").body["items"]
    ]
    assert outcomes == ["accepted", "duplicate", "accepted"]


# Who may send ------------------------------------------------------------------------------------


def test_unknown_webhooks_and_wrong_credentials_get_the_same_401_and_are_logged_without_the_secret(
    api: Api, account: tuple[str, str], logs: LogCapture
) -> None:
    _, account_id = account
    open_hook = _webhook(api, [account_id])
    tv_only = _webhook(api, [account_id], auth={"allowedIps": "tradingview"})
    signed = _webhook(api, [account_id], auth={"hmac": True, "maxAgeSeconds": 30})
    body = _json_alert(signed["secret"], volume=0.1)
    now = str(int(time.time()))
    refused = [
        post_alert("01JZZZZZZZZZZZZZZZZZZZZZZZ", _json_alert(open_hook["secret"])),
        post_alert("not-a-webhook", _json_alert(open_hook["secret"])),
        post_alert(open_hook["id"], _json_alert("whsec_wrong")),
        post_alert(open_hook["id"], '{"action": "buy", "symbol": "EURUSD"}'),
        post_alert(tv_only["id"], _json_alert(tv_only["secret"]), source_ip="203.0.113.5"),
        post_alert(signed["id"], body),
        post_alert(signed["id"], body, headers={"X-Timestamp": now, "X-Signature": "00" * 32}),
        post_alert(
            signed["id"],
            body,
            headers={
                "X-Timestamp": str(int(time.time()) - 60),
                "X-Signature": signature_of(signed["secret"], str(int(time.time()) - 60), body.encode()),
            },
        ),
    ]
    assert [answer.status for answer in refused] == [401] * len(refused)
    assert len({json.dumps(answer.body) for answer in refused}) == 1
    # The right ones pass: from TradingView's address; signed and fresh, secret in the header.
    assert post_alert(tv_only["id"], _json_alert(tv_only["secret"], volume=0.1)).status == 202
    header_only = json.dumps({"action": "buy", "symbol": "EURUSD", "volume": 0.1})
    good = post_alert(
        signed["id"],
        header_only,
        headers={
            "X-Webhook-Secret": signed["secret"],
            "X-Timestamp": now,
            "X-Signature": signature_of(signed["secret"], now, header_only.encode()),
        },
    )
    assert good.status == 202, good.body
    reasons = [
        s["reason"]
        for hook in (open_hook, tv_only, signed)
        for s in api.call("GET", f"{WEBHOOKS}/{hook['id']}/signals", user="alice").body["items"]
        if s["outcome"] == "unauthorized"
    ]
    assert sorted(reasons) == sorted(
        [
            "wrong or missing secret",
            "wrong or missing secret",
            "source address 203.0.113.5 is not allowed",
            "X-Signature and X-Timestamp are required",
            "X-Signature does not match the body",
            "X-Timestamp is more than 30 s away from now",
        ]
    )
    for hook in (open_hook, tv_only, signed):
        assert hook["secret"] not in logs.text


def test_over_the_rate_limit_is_a_429(api: Api, account: tuple[str, str]) -> None:
    _, account_id = account
    hook = _webhook(api, [account_id], rateLimitPerMinute=2, dedupeWindowSeconds=0)
    if time.time() % 60 > 55:
        time.sleep(61 - time.time() % 60)  # all three inside one minute
    answers = [
        post_alert(hook["id"], _json_alert(hook["secret"], volume=0.1, signalId=str(n))) for n in range(3)
    ]
    assert [answer.status for answer in answers] == [202, 202, 429]
    assert 1 <= int(answers[2].headers["Retry-After"][0]) <= 60
    log = api.call("GET", f"{WEBHOOKS}/{hook['id']}/signals", user="alice").body["items"]
    assert log[0]["outcome"] == "rate_limited"


# Fan-out, symbols, positions ---------------------------------------------------------------------


def test_one_alert_fans_out_to_three_accounts_each_sized_from_its_own_money(
    api: Api, simulator: Simulator, executor_poller: QueuePoller
) -> None:
    accounts = [
        _link(api, simulator, currency="USD", balance=Decimal(10_000)),
        _link(api, simulator, currency="EUR", balance=Decimal(50_000)),
        _link(api, simulator, currency="JPY", balance=Decimal(3_000_000)),
    ]
    hook = _webhook(
        api,
        [account_id for _, account_id in accounts],
        sizing={"mode": "risk_percent", "percent": 1, "of": "balance"},
    )
    answer = post_alert(hook["id"], f"{hook['secret']},buy,EURUSD,sl=20", content_type="text/plain")
    assert answer.status == 202, answer.body
    assert len({target["tradeId"] for target in answer.body["accounts"]}) == 3
    _drain(executor_poller)
    volumes = [simulator.sim_positions(metaapi_id)[0]["volume"] for metaapi_id, _ in accounts]
    # 1 % of 10 000 USD over 20 pips of EURUSD is 0.5 lots; the others from their own money.
    assert volumes[0] == pytest.approx(0.5, abs=0.01)
    assert volumes[1] > volumes[0]
    assert len(set(volumes)) == 3
    signal = _signal(api, hook, answer.body["signalId"])
    assert [target["status"] for target in signal["targets"]] == ["EXECUTED"] * 3
    assert [target["volume"] for target in signal["targets"]] == volumes


def test_a_suffixed_broker_symbol_is_found_and_an_ambiguous_one_refused_with_its_candidates(
    api: Api, simulator: Simulator, executor_poller: QueuePoller
) -> None:
    suffixed, suffixed_id = _link(api, simulator)
    simulator.name_symbols(suffixed, {"EURUSD.m": "EURUSD", "GBPUSD.m": "GBPUSD"})
    ambiguous, ambiguous_id = _link(api, simulator)
    simulator.name_symbols(ambiguous, {"EURUSD.m": "EURUSD", "EURUSD.pro": "EURUSD"})
    hook = _webhook(api, [suffixed_id, ambiguous_id])
    answer = post_alert(hook["id"], _json_alert(hook["secret"], volume=0.1))
    _drain(executor_poller)
    assert [p["symbol"] for p in simulator.sim_positions(suffixed)] == ["EURUSD.m"]
    assert simulator.sim_positions(ambiguous) == []
    found, refused = _signal(api, hook, answer.body["signalId"])["targets"]
    assert (found["symbol"], found["status"]) == ("EURUSD.m", "EXECUTED")
    assert (refused["status"], refused["code"]) == ("REJECTED", "SIGNAL_SYMBOL_AMBIGUOUS")
    assert "EURUSD.m, EURUSD.pro" in refused["reason"]


def test_the_webhooks_symbol_map_and_allowed_symbols(
    api: Api, simulator: Simulator, executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = _link(api, simulator)
    simulator.name_symbols(metaapi_id, {"GOLD": "XAUUSD", "EURUSD": "EURUSD"})
    hook = _webhook(api, [account_id], symbolMap={"XAU": "GOLD"}, allowedSymbols=["XAU", "EURUSD"])
    answer = post_alert(hook["id"], _json_alert(hook["secret"], symbol="XAU", volume=0.01))
    refused = post_alert(hook["id"], _json_alert(hook["secret"], symbol="GBPUSD", volume=0.01))
    assert refused.status == 422
    assert "not among the webhook's allowed symbols" in refused.body["message"]
    _drain(executor_poller)
    assert [p["symbol"] for p in simulator.sim_positions(metaapi_id)] == ["GOLD"]
    assert _signal(api, hook, answer.body["signalId"])["targets"][0]["symbol"] == "GOLD"


def test_without_pyramiding_an_entry_on_a_held_side_is_ignored(
    api: Api, simulator: Simulator, account: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = account
    hook = _webhook(api, [account_id], pyramiding=False, dedupeWindowSeconds=0)
    first = post_alert(hook["id"], _json_alert(hook["secret"], volume=0.1, signalId="a"))
    _drain(executor_poller)
    second = post_alert(hook["id"], _json_alert(hook["secret"], volume=0.1, signalId="b"))
    _drain(executor_poller)
    assert len(simulator.sim_positions(metaapi_id)) == 1
    assert _signal(api, hook, first.body["signalId"])["outcome"] == "accepted"
    ignored = _signal(api, hook, second.body["signalId"])
    assert ignored["outcome"] == "ignored"
    assert ignored["targets"][0]["code"] == "SIGNAL_IGNORED"
    assert "already holds a long on EURUSD" in ignored["targets"][0]["reason"]


def test_close_opposite_closes_the_other_side_first(
    api: Api, simulator: Simulator, account: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = account
    hook = _webhook(api, [account_id], closeOpposite=True)
    simulator.open_position(metaapi_id, "EURUSD", "POSITION_TYPE_SELL", 0.2)
    simulator.open_position(metaapi_id, "EURUSD", "POSITION_TYPE_SELL", 0.3)
    answer = post_alert(hook["id"], _json_alert(hook["secret"], volume=0.1))
    _drain(executor_poller)
    assert _sides(simulator, metaapi_id) == [("EURUSD", "POSITION_TYPE_BUY", 0.1)]
    sent = [trade["body"]["actionType"] for trade in trades_log(simulator, metaapi_id)]
    assert sent == ["POSITION_CLOSE_ID", "POSITION_CLOSE_ID", "ORDER_TYPE_BUY"]
    target = _signal(api, hook, answer.body["signalId"])["targets"][0]
    assert target["status"] == "EXECUTED"
    assert len(target["children"]) == 3
    assert target["reason"].startswith("closed 2 opposite positions")


def test_shadow_mode_checks_and_sizes_and_sends_nothing(
    api: Api, simulator: Simulator, account: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = account
    hook = _webhook(api, [account_id], shadow=True, sizing={"mode": "risk_amount", "amount": 100})
    answer = post_alert(hook["id"], f"{hook['secret']},buy,EURUSD,sl=20", content_type="text/plain")
    assert (answer.status, answer.body["outcome"]) == (202, "shadow")
    _drain(executor_poller)
    assert trades_log(simulator, metaapi_id) == []
    target = _signal(api, hook, answer.body["signalId"])["targets"][0]
    assert (target["status"], target["code"]) == ("CANCELED", "SIGNAL_SHADOW")
    # 100 USD over 20 pips of EURUSD: 0.5 lots, with its stop loss.
    assert target["volume"] == pytest.approx(0.5, abs=0.01)
    assert target["stopLoss"]
    assert "would buy" in target["reason"]


def test_a_halted_account_refuses_while_the_others_trade(
    api: Api, simulator: Simulator, executor_poller: QueuePoller
) -> None:
    trading, trading_id = _link(api, simulator)
    halted, halted_id = _link(api, simulator)
    assert api.call("POST", f"{ACCOUNTS}/{halted_id}/risk/halt", user="alice", body={}).status == 200
    hook = _webhook(api, [trading_id, halted_id])
    answer = post_alert(hook["id"], _json_alert(hook["secret"], volume=0.1))
    _drain(executor_poller)
    assert len(simulator.sim_positions(trading)) == 1
    assert simulator.sim_positions(halted) == []
    done, refused = _signal(api, hook, answer.body["signalId"])["targets"]
    assert done["status"] == "EXECUTED"
    assert (refused["status"], refused["code"]) == ("REJECTED", "RISK_HALTED")


def test_the_secret_is_in_no_log_line_item_or_response_after_creation(
    api: Api, simulator: Simulator, account: tuple[str, str], executor_poller: QueuePoller, logs: LogCapture
) -> None:
    _, account_id = account
    hook = _webhook(api, [account_id])
    secret = hook["secret"]
    answers = [
        post_alert(hook["id"], _json_alert(secret, volume=0.1)),
        post_alert(hook["id"], f"{secret},sell,EURUSD", content_type="text/plain"),
        post_alert(hook["id"], f"{secret},buy,EURUSD,risk=x", content_type="text/plain"),
        post_alert(hook["id"], _json_alert(secret[:-1])),
        # The right secret in the wrong place: refused, and still not kept.
        post_alert(hook["id"], f"buy,{secret},EURUSD", content_type="text/plain"),
        post_alert(hook["id"], f"{secret},buy,EURUSD,comment=" + "x" * 20_000, content_type="text/plain"),
    ]
    assert [answer.status for answer in answers] == [202, 202, 422, 401, 401, 422]
    _drain(executor_poller)
    reads = [
        api.call("GET", WEBHOOKS, user="alice"),
        api.call("GET", f"{WEBHOOKS}/{hook['id']}", user="alice"),
        api.call("GET", f"{WEBHOOKS}/{hook['id']}/signals", user="alice"),
        api.call(
            "PUT", f"{WEBHOOKS}/{hook['id']}", user="alice", body={"name": "n", "accountIds": [account_id]}
        ),
    ]
    for answer in (*answers, *reads):
        assert secret not in json.dumps(answer.body)
        assert secret[:-1] not in json.dumps(answer.body)
    items = boto3.client("dynamodb").get_paginator("scan")
    tables = boto3.client("dynamodb").list_tables()["TableNames"]
    stored = json.dumps(
        [item for table in tables for page in items.paginate(TableName=table) for item in page["Items"]]
    )
    assert secret not in stored
    assert secret[:-1] not in stored
    assert secret not in logs.text
    assert secret[:-1] not in logs.text
    log = api.call("GET", f"{WEBHOOKS}/{hook['id']}/signals", user="alice").body["items"]
    assert log[0]["body"].endswith(f"({len(secret) + 20 + 20_000} characters in all)")
    assert len(log[0]["body"]) < 4200


# Nothing lost -----------------------------------------------------------------------------------


def test_an_alert_whose_trades_could_not_be_queued_is_sent_by_the_sweeper(
    api: Api,
    simulator: Simulator,
    account: tuple[str, str],
    executor_poller: QueuePoller,
    new_container: Callable[[str, str], None],
) -> None:
    metaapi_id, account_id = account
    hook = _webhook(api, [account_id])
    queue_url = os.environ["TRADE_QUEUE_URL"]
    new_container("TRADE_QUEUE_URL", queue_url + "-gone")
    answer = post_alert(hook["id"], _json_alert(hook["secret"], volume=0.1))
    assert answer.status == 202, answer.body
    new_container("TRADE_QUEUE_URL", queue_url)
    _drain(executor_poller)
    assert trades_log(simulator, metaapi_id) == []
    later = datetime.now(UTC) + timedelta(minutes=4)
    assert sweep(later, trades=get_trades_repository(), queue=get_trade_queue()) == 1
    _drain(executor_poller)
    assert len(simulator.sim_positions(metaapi_id)) == 1
    assert _signal(api, hook, answer.body["signalId"])["targets"][0]["status"] == "EXECUTED"


def test_a_signal_the_queue_gave_up_on_before_it_was_resolved_ends_rejected(
    api: Api, account: tuple[str, str], dead_letter_poller: QueuePoller
) -> None:
    _, account_id = account
    hook = _webhook(api, [account_id])
    answer = post_alert(hook["id"], _json_alert(hook["secret"], volume=0.1))
    (target,) = answer.body["accounts"]
    message = json.dumps({"accountId": account_id, "tradeId": target["tradeId"]})
    boto3.client("sqs").send_message(
        QueueUrl=dead_letter_poller.queue_url, MessageBody=message, MessageGroupId=account_id,
        MessageDeduplicationId=target["tradeId"],
    )  # fmt: skip
    while dead_letter_poller.poll_once():
        pass
    ended = _signal(api, hook, answer.body["signalId"])["targets"][0]
    assert ended["status"] == "REJECTED"
    assert "gave up on it before it could be resolved" in ended["reason"]

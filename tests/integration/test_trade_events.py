"""Trade events come from the table's stream: one per settled trade, with its outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.local.queues import QueuePoller
from tests.integration.conftest import Api, Simulator

ACCOUNTS = "/api/metatrader/accounts"
ORDER = {"symbol": "EURUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.1}


def _drain(poller: QueuePoller) -> None:
    while poller.poll_once():
        pass


def test_settled_trades_are_announced_once_each(
    api: Api,
    simulator: Simulator,
    linked: tuple[str, str],
    executor_poller: QueuePoller,
    event_listener: Callable[[], list[dict[str, Any]]],
) -> None:
    metaapi_id, account_id = linked
    executed = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER).body
    _drain(executor_poller)
    simulator.fault(metaapi_id, "trade", "invalid_stops")
    rejected = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER).body
    _drain(executor_poller)

    events = event_listener()

    assert [(e["detail-type"], e["detail"]["id"]) for e in events] == [
        ("TradeExecuted", executed["id"]),
        ("TradeRejected", rejected["id"]),
    ]
    assert events[0]["source"] == "mt-backend.trades"
    assert events[0]["detail"]["userId"] == "alice"
    assert events[1]["detail"]["broker"]["stringCode"] == "TRADE_RETCODE_INVALID_STOPS"
    assert event_listener() == []  # nothing twice


def test_an_executed_trade_refreshes_the_stored_positions(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    _, account_id = linked
    before = api.call("GET", f"{ACCOUNTS}/{account_id}/positions", user="alice").body

    trade = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER).body
    _drain(executor_poller)
    stored = api.call("GET", f"{ACCOUNTS}/{account_id}/positions", user="alice").body
    final = api.call("GET", f"{ACCOUNTS}/{account_id}/trades/{trade['id']}", user="alice").body

    assert before == []
    assert [p["id"] for p in stored] == [final["broker"]["positionId"]]
    assert stored[0]["clientId"] == trade["clientId"]

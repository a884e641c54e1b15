"""Position, order, account and sync events reach the bus from the table's stream: one per real
change, none for a write that changes nothing a subscriber cares about."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.local.queues import QueuePoller
from tests.integration.conftest import Api, Simulator

ACCOUNTS = "/api/metatrader/accounts"
Listener = Callable[[], list[dict[str, Any]]]


def _sync(api: Api, poller: QueuePoller, account_id: str, kind: str = "full") -> None:
    api.call("POST", f"{ACCOUNTS}/{account_id}/sync/{kind}", user="alice")
    poller.poll_once()


def _kinds(listener: Listener) -> list[str]:
    seen: list[str] = []
    while batch := listener():
        seen += [event["detail-type"] for event in batch]
    return sorted(seen)


def test_sync_announces_what_changed_and_only_that(
    api: Api, simulator: Simulator, sync_poller: QueuePoller, account_event_listener: Listener
) -> None:
    simulator.set_price("EURUSD", 1.08500, 1.08510)
    metaapi_id = simulator.account(metadata={"userId": "alice"})
    account_id = api.call("POST", ACCOUNTS, user="alice", body={"metaapiAccountId": metaapi_id}).body["id"]
    position = simulator.open_position(metaapi_id)
    _kinds(account_event_listener)  # linking is not what this test is about

    _sync(api, sync_poller, account_id)
    opened = account_event_listener()
    _sync(api, sync_poller, account_id)
    quiet = _kinds(account_event_listener)
    simulator.fault(metaapi_id, "positions", "empty_positions", count=4)
    _sync(api, sync_poller, account_id, "positions")
    _sync(api, sync_poller, account_id, "positions")
    disconnected = _kinds(account_event_listener)
    simulator.clear_faults(metaapi_id)
    simulator.fault(metaapi_id, "account-information", "http_500", count=10)
    _sync(api, sync_poller, account_id)
    failed = _kinds(account_event_listener)

    assert sorted(event["detail-type"] for event in opened) == ["AccountUpdated", "PositionOpened"]
    position_event = next(event for event in opened if event["detail-type"] == "PositionOpened")
    assert position_event["source"] == "mt-backend.accounts"
    assert (position_event["detail"]["id"], position_event["detail"]["userId"]) == (position["id"], "alice")
    assert position_event["detail"]["accountId"] == account_id
    assert quiet == []
    assert disconnected.count("AccountDisconnected") == 1  # once per episode
    assert failed == ["SyncFailed"]

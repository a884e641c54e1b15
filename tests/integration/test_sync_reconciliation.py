"""Each full sync compares our trades with the broker's records and says what it found on the
account: UNKNOWN trades settled, executed trades without a position, positions carrying our
clientId without a trade, positions opened by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from infra.local.queues import QueuePoller
from mtcore.metaapi.models import TradeAction
from mtcore.repositories.trades import get_trades_repository
from mtcore.trades.models import BrokerAnswer, TradeKind, TradeRequest, TradeStatus
from tests.integration.conftest import PLATFORM_TOKEN, Api, Simulator

ACCOUNTS = "/api/metatrader/accounts"


@pytest.fixture
def linked(api: Api, simulator: Simulator) -> tuple[str, str]:
    metaapi_id = simulator.account(metadata={"userId": "alice"})
    account_id = api.call("POST", ACCOUNTS, user="alice", body={"metaapiAccountId": metaapi_id}).body["id"]
    return metaapi_id, account_id


def _full_sync(api: Api, poller: QueuePoller, account_id: str) -> dict[str, Any]:
    asked = api.call("POST", f"{ACCOUNTS}/{account_id}/sync/full", user="alice").body
    poller.poll_once()
    log = api.call("GET", f"{ACCOUNTS}/{account_id}/sync/{asked['syncId']}", user="alice").body
    assert log["status"] == "success", log
    account: dict[str, Any] = api.call("GET", f"{ACCOUNTS}/{account_id}", user="alice").body
    return account


def _stored_request(account_id: str, **fields: Any) -> TradeRequest:
    at = fields.pop("at", datetime.now(UTC))
    request = TradeRequest(
        account_id=account_id,
        user_id="alice",
        kind=TradeKind.OPEN,
        action=TradeAction.BUY,
        symbol="EURUSD",
        volume=Decimal("0.1"),
        created_at=at,
        updated_at=at,
        **fields,
    )
    get_trades_repository().put_new(request)
    return request


def test_an_unknown_trade_is_settled_by_the_next_full_sync(
    api: Api,
    simulator: Simulator,
    linked: tuple[str, str],
    executor_poller: QueuePoller,
    sync_poller: QueuePoller,
) -> None:
    metaapi_id, account_id = linked
    # The order executes, the answer is lost, and the broker cannot be asked: UNKNOWN.
    simulator.fault(metaapi_id, "trade", "disconnect_after_execute")
    simulator.fault(metaapi_id, "positions", "http_500", count=20)
    order = {"symbol": "EURUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.1}
    trade = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=order).body
    while executor_poller.poll_once():
        pass
    unknown = api.call("GET", f"{ACCOUNTS}/{account_id}/trades/{trade['id']}", user="alice").body
    simulator.clear_faults(metaapi_id)

    account = _full_sync(api, sync_poller, account_id)
    settled = api.call("GET", f"{ACCOUNTS}/{account_id}/trades/{trade['id']}", user="alice").body

    assert unknown["status"] == "UNKNOWN"
    assert settled["status"] == "EXECUTED"
    assert settled["reason"].startswith("resolved by sync: found open position")
    assert account["reconciliation"]["unknownResolved"] == [trade["id"]]


def test_manual_and_unmatched_positions_and_a_trade_without_its_position_are_named(
    api: Api, simulator: Simulator, linked: tuple[str, str], sync_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    by_hand = simulator.open_position(metaapi_id)
    stranger = simulator.session.post(
        f"{simulator.url}/users/current/accounts/{metaapi_id}/trade",
        headers={"auth-token": PLATFORM_TOKEN},
        json={"actionType": "ORDER_TYPE_SELL", "symbol": "EURUSD", "volume": 0.1, "clientId": "TABCDEFGHJ"},
        timeout=5,
    ).json()
    lost = _stored_request(
        account_id,
        status=TradeStatus.EXECUTED,
        broker=BrokerAnswer(position_id="999999"),
        at=datetime.now(UTC) - timedelta(minutes=10),
    )

    account = _full_sync(api, sync_poller, account_id)

    found = account["reconciliation"]
    assert found["manualPositions"] == [by_hand["id"]]
    assert found["unmatchedPositions"] == [stranger["positionId"]]
    assert found["executedWithoutPosition"] == [lost.id]
    assert found["unknownResolved"] == []

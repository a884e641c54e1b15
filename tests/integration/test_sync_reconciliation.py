"""Each full sync compares our trades with the broker's records and says what it found on the
account: UNKNOWN trades settled, executed trades without a position, positions carrying our
clientId without a trade, positions opened by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from infra.local.queues import QueuePoller
from mtcore.metaapi.models import TradeAction
from mtcore.trading.broker_truth import SENT
from mtcore.trading.models import BrokerAnswer, TradeKind, TradeRequest, TradeStatus
from mtcore.trading.repository import get_trades_repository
from tests.integration.conftest import PLATFORM_TOKEN, Api, Simulator

ACCOUNTS = "/api/metatrader/accounts"


def _full_sync(api: Api, poller: QueuePoller, account_id: str) -> dict[str, Any]:
    asked = api.call("POST", f"{ACCOUNTS}/{account_id}/sync/full", user="alice").body
    poller.poll_once()
    log = api.call("GET", f"{ACCOUNTS}/{account_id}/sync/{asked['syncId']}", user="alice").body
    assert log["status"] == "success", log
    account: dict[str, Any] = api.call("GET", f"{ACCOUNTS}/{account_id}", user="alice").body
    return account


def _stored_request(account_id: str, **fields: Any) -> TradeRequest:
    at = fields.pop("at", datetime.now(UTC))
    order = {"kind": TradeKind.OPEN, "action": TradeAction.BUY, "symbol": "EURUSD", "volume": Decimal("0.1")}
    request = TradeRequest(
        account_id=account_id, user_id="alice", created_at=at, updated_at=at, **(order | fields)
    )
    get_trades_repository().put_new(request)
    return request


def _broker_trade(simulator: Simulator, metaapi_id: str, **body: Any) -> dict[str, Any]:
    """A trade placed at the broker directly, as if our send had reached it."""
    answer = simulator.session.post(
        f"{simulator.url}/users/current/accounts/{metaapi_id}/trade",
        headers={"auth-token": PLATFORM_TOKEN},
        json=body,
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _unknown(account_id: str, *, sent_ago: timedelta = timedelta(minutes=1), **fields: Any) -> TradeRequest:
    """A request sent `sent_ago` that the executor gave up looking for: UNKNOWN."""
    sent = datetime.now(UTC) - sent_ago
    request = _stored_request(account_id, at=sent, **fields)
    trades = get_trades_repository()
    sending = trades.transition(
        request, TradeStatus.SENDING, expected={TradeStatus.QUEUED}, at=sent, note=SENT
    )
    return trades.transition(sending, TradeStatus.UNKNOWN, expected={TradeStatus.SENDING}, at=sent)


def _trade(api: Api, account_id: str, trade_id: str) -> dict[str, Any]:
    trade: dict[str, Any] = api.call("GET", f"{ACCOUNTS}/{account_id}/trades/{trade_id}", user="alice").body
    return trade


def test_an_unknown_trade_is_settled_by_the_next_full_sync(
    api: Api, simulator: Simulator, linked: tuple[str, str], sync_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    # The order executed, but the executor never learned it: UNKNOWN.
    unknown = _unknown(account_id)
    _broker_trade(simulator, metaapi_id, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1,
                  clientId=unknown.client_id)  # fmt: skip

    account = _full_sync(api, sync_poller, account_id)
    settled = _trade(api, account_id, unknown.id)

    assert settled["status"] == "EXECUTED"
    assert settled["reason"].startswith("resolved by sync: found open position")
    assert account["reconciliation"]["unknownResolved"] == [unknown.id]


def test_an_unknown_order_with_no_trace_fails_only_once_the_broker_had_time_to_execute_it(
    api: Api, linked: tuple[str, str], sync_poller: QueuePoller
) -> None:
    _, account_id = linked
    long_ago = _unknown(account_id)
    just_sent = _unknown(account_id, sent_ago=timedelta(seconds=3))

    account = _full_sync(api, sync_poller, account_id)

    assert _trade(api, account_id, long_ago.id)["status"] == "FAILED"
    assert "not executed: no position, order, deal" in _trade(api, account_id, long_ago.id)["reason"]
    assert _trade(api, account_id, just_sent.id)["status"] == "UNKNOWN"
    assert account["reconciliation"]["unknownResolved"] == [long_ago.id]
    assert account["reconciliation"]["unknownRemaining"] == [just_sent.id]


def test_unknown_closes_are_settled_from_the_position_and_its_closing_deal(
    api: Api, simulator: Simulator, linked: tuple[str, str], sync_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    kept = simulator.open_position(metaapi_id, volume=0.1)
    closed = simulator.open_position(metaapi_id, volume=0.2)
    close: dict[str, Any] = {
        "kind": TradeKind.CLOSE, "action": TradeAction.POSITION_CLOSE_ID, "symbol": None, "volume": None,
    }  # fmt: skip
    never_ran = _unknown(account_id, position_id=kept["id"], position_volume=Decimal("0.1"), **close)
    ran = _unknown(account_id, position_id=closed["id"], position_volume=Decimal("0.2"), **close)
    _broker_trade(simulator, metaapi_id, actionType="POSITION_CLOSE_ID", positionId=closed["id"],
                  clientId=ran.client_id)  # fmt: skip

    _full_sync(api, sync_poller, account_id)

    not_closed, was_closed = (_trade(api, account_id, trade.id) for trade in (never_ran, ran))
    assert (not_closed["status"], was_closed["status"]) == ("FAILED", "EXECUTED")
    assert (
        not_closed["reason"]
        == f"resolved by sync: not executed: still open: position {kept['id']} with 0.1 lots"
    )
    assert was_closed["reason"].startswith(f"resolved by sync: position {closed['id']} is closed (deal ")


def test_an_unknown_close_all_is_settled_once_its_children_are(
    api: Api, simulator: Simulator, linked: tuple[str, str], sync_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    position = simulator.open_position(metaapi_id, volume=0.1)
    child = _unknown(
        account_id, kind=TradeKind.CLOSE, action=TradeAction.POSITION_CLOSE_ID, symbol=None, volume=None,
        position_id=position["id"], position_volume=Decimal("0.1"),
    )  # fmt: skip
    parent = _stored_request(
        account_id, kind=TradeKind.CLOSE_ALL, action=TradeAction.POSITION_CLOSE_ID, symbol=None, volume=None,
        children=[child.id], status=TradeStatus.UNKNOWN,
    )  # fmt: skip
    _broker_trade(simulator, metaapi_id, actionType="POSITION_CLOSE_ID", positionId=position["id"])

    account = _full_sync(api, sync_poller, account_id)

    assert _trade(api, account_id, child.id)["status"] == "EXECUTED"
    settled = _trade(api, account_id, parent.id)
    assert (settled["status"], settled["reason"]) == ("EXECUTED", "resolved by sync: closed 1 of 1 positions")
    assert sorted(account["reconciliation"]["unknownResolved"]) == sorted([child.id, parent.id])


def test_a_late_fill_of_a_trade_not_recorded_as_executed_is_named(
    api: Api, simulator: Simulator, linked: tuple[str, str], sync_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    failed = _stored_request(account_id, status=TradeStatus.FAILED)
    late = _broker_trade(simulator, metaapi_id, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1,
                         clientId=failed.client_id)  # fmt: skip
    # A trade still being sent owns its position already: the executor records it.
    on_its_way = _stored_request(account_id, status=TradeStatus.SENDING)
    _broker_trade(simulator, metaapi_id, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1,
                  clientId=on_its_way.client_id)  # fmt: skip

    account = _full_sync(api, sync_poller, account_id)

    assert account["reconciliation"]["positionsOfUnexecutedTrades"] == [late["positionId"]]
    assert account["reconciliation"]["unmatchedPositions"] == []


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

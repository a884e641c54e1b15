"""Nothing accepted is lost between two writes, and nothing parked is forgotten."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3

from infra.local.queues import QueuePoller
from mtcore.metaapi.models import TradeAction
from mtcore.trading.models import TradeKind, TradeRequest, TradeStatus
from mtcore.trading.queue import get_trade_queue
from mtcore.trading.repository import get_trades_repository
from mtcore.trading.sweeper import sweep
from tests.integration.conftest import Api, Simulator, trades_log

ACCOUNTS = "/api/metatrader/accounts"


def _drain(poller: QueuePoller) -> None:
    for _ in range(10):
        if poller.poll_once() == 0:
            return


def test_a_request_whose_message_was_lost_is_recovered(
    simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    now = datetime.now(UTC)
    # Given a request written, and the process gone before its message was sent
    request = TradeRequest(
        account_id=account_id, user_id="alice", kind=TradeKind.OPEN, action=TradeAction.BUY, symbol="EURUSD",
        volume=Decimal("0.1"), expires_at=now + timedelta(minutes=10), created_at=now, updated_at=now,
    )  # fmt: skip
    get_trades_repository().put_new(request)
    _drain(executor_poller)
    assert trades_log(simulator, metaapi_id) == []

    # When the sweeper runs, soon, then once it is overdue
    early = sweep(now + timedelta(seconds=30), trades=get_trades_repository(), queue=get_trade_queue())
    due = sweep(now + timedelta(minutes=4), trades=get_trades_repository(), queue=get_trade_queue())
    again = sweep(now + timedelta(minutes=4), trades=get_trades_repository(), queue=get_trade_queue())
    _drain(executor_poller)

    # Then it was re-enqueued once, and executed once
    assert (early, due, again) == (0, 1, 0)
    assert get_trades_repository().get(account_id, request.id).status is TradeStatus.EXECUTED
    assert len(trades_log(simulator, metaapi_id)) == 1


def test_a_parked_order_runs_after_its_delay_and_never_blocks_a_close(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    position = simulator.open_position(metaapi_id)
    simulator.fault(metaapi_id, "trade", "http_429", retryAfterSeconds=7)

    order = api.call(
        "POST", f"{ACCOUNTS}/{account_id}/orders", user="alice",
        body={"symbol": "EURUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.1},
    ).body  # fmt: skip
    _drain(executor_poller)
    parked = get_trades_repository().get(account_id, order["id"])
    close = api.call("DELETE", f"{ACCOUNTS}/{account_id}/positions/{position['id']}", user="alice").body
    _drain(executor_poller)
    closed_while_parked = get_trades_repository().get(account_id, close["id"]).status
    too_soon = sweep(datetime.now(UTC), trades=get_trades_repository(), queue=get_trade_queue())
    time.sleep(7.5)
    due = sweep(datetime.now(UTC), trades=get_trades_repository(), queue=get_trade_queue())
    _drain(executor_poller)

    assert parked.status is TradeStatus.WAITING
    assert parked.not_before is not None
    assert closed_while_parked is TradeStatus.EXECUTED
    assert (too_soon, due) == (0, 1)
    assert get_trades_repository().get(account_id, order["id"]).status is TradeStatus.EXECUTED
    executed = [entry for entry in trades_log(simulator, metaapi_id) if entry["executed"]]
    assert len(executed) == 2  # the close and the order, once each


def test_a_request_handed_back_twice_within_a_second_gets_two_messages(
    linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    """A signal is handed back behind each batch of its children, sometimes twice in a second:
    neither message may be dropped as a duplicate."""
    _, account_id = linked
    now = datetime.now(UTC).replace(microsecond=100)
    request = TradeRequest(
        account_id=account_id, user_id="alice", kind=TradeKind.CLOSE, action=TradeAction.POSITION_CLOSE_ID,
        position_id="1", created_at=now, updated_at=now,
    )  # fmt: skip
    queue = get_trade_queue()
    queue.send_again(request, now)
    queue.send_again(request, now + timedelta(microseconds=500))
    sqs = boto3.client("sqs")
    received = sqs.receive_message(QueueUrl=executor_poller.queue_url, MaxNumberOfMessages=10)["Messages"]
    for message in received:
        sqs.delete_message(QueueUrl=executor_poller.queue_url, ReceiptHandle=message["ReceiptHandle"])
    received += sqs.receive_message(QueueUrl=executor_poller.queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    )
    assert len(received) == 2

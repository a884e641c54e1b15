"""Nothing accepted is lost between two writes, and nothing parked is forgotten."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3

from infra.local.queues import QueuePoller
from mtcore.aws import sqs_client
from mtcore.metaapi.models import TradeAction
from mtcore.settings import get_settings
from mtcore.trading.models import TradeKind, TradeRequest, TradeStatus
from mtcore.trading.queue import get_trade_queue
from mtcore.trading.repository import get_trades_repository
from mtcore.trading.sweeper import TIMER_GRACE, sweep
from mtcore.trading.timer import TimedTrade, get_trade_timer, hand_back
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


def _park_an_order(
    api: Api, simulator: Simulator, account_id: str, metaapi_id: str, poller: QueuePoller
) -> str:
    """An order MetaApi answered 429 with 7 s advised: longer than a short retry, so it is parked."""
    simulator.fault(metaapi_id, "trade", "http_429", retryAfterSeconds=7)
    order = api.call(
        "POST", f"{ACCOUNTS}/{account_id}/orders", user="alice",
        body={"symbol": "EURUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.1},
    ).body  # fmt: skip
    _drain(poller)
    parked = get_trades_repository().get(account_id, order["id"])
    assert parked.status is TradeStatus.WAITING
    assert parked.not_before is not None
    return str(order["id"])


def test_a_parked_order_is_handed_back_by_the_timer_when_due_and_never_blocks_a_close(
    api: Api,
    simulator: Simulator,
    linked: tuple[str, str],
    executor_poller: QueuePoller,
    timer_poller: QueuePoller,
) -> None:
    metaapi_id, account_id = linked
    position = simulator.open_position(metaapi_id)
    order_id = _park_an_order(api, simulator, account_id, metaapi_id, executor_poller)

    close = api.call("DELETE", f"{ACCOUNTS}/{account_id}/positions/{position['id']}", user="alice").body
    _drain(executor_poller)
    closed_while_parked = get_trades_repository().get(account_id, close["id"]).status
    too_soon = timer_poller.poll_once()
    time.sleep(7.5)
    handed_back = timer_poller.poll_once(wait_seconds=2)
    # The sweeper leaves it to the timer for a while after it is due.
    swept = sweep(datetime.now(UTC), trades=get_trades_repository(), queue=get_trade_queue())
    _drain(executor_poller)

    assert closed_while_parked is TradeStatus.EXECUTED
    assert (too_soon, handed_back, swept) == (0, 1, 0)
    assert get_trades_repository().get(account_id, order_id).status is TradeStatus.EXECUTED
    executed = [entry for entry in trades_log(simulator, metaapi_id) if entry["executed"]]
    assert len(executed) == 2  # the close and the order, once each


def test_a_parked_order_whose_timer_message_was_lost_is_sent_by_the_sweeper(
    api: Api,
    simulator: Simulator,
    linked: tuple[str, str],
    executor_poller: QueuePoller,
    timer_poller: QueuePoller,
) -> None:
    metaapi_id, account_id = linked
    order_id = _park_an_order(api, simulator, account_id, metaapi_id, executor_poller)
    boto3.client("sqs").purge_queue(QueueUrl=timer_poller.queue_url)
    not_before = get_trades_repository().get(account_id, order_id).not_before
    assert not_before is not None

    early = sweep(not_before + timedelta(seconds=5), trades=get_trades_repository(), queue=get_trade_queue())
    late = sweep(not_before + TIMER_GRACE, trades=get_trades_repository(), queue=get_trade_queue())
    time.sleep(max(0.0, (not_before - datetime.now(UTC)).total_seconds()))
    _drain(executor_poller)

    assert (early, late) == (0, 1)
    assert get_trades_repository().get(account_id, order_id).status is TradeStatus.EXECUTED
    assert len([entry for entry in trades_log(simulator, metaapi_id) if entry["executed"]]) == 1


def test_a_wait_longer_than_sqs_can_delay_goes_round_again(aws: Any, timer_poller: QueuePoller) -> None:
    sent: list[dict[str, Any]] = []
    events = sqs_client().meta.events
    events.register(
        "provide-client-params.sqs.SendMessage",
        lambda params, **_: sent.append(dict(params)),
        unique_id="sent",
    )
    now = datetime.now(UTC)
    timed = TimedTrade(account_id="a1", trade_id="t1", not_before=now + timedelta(minutes=40))

    hand_back(timed, now=now, timer=get_trade_timer(), queue=get_trade_queue())
    hand_back(
        timed, now=timed.not_before - timedelta(minutes=5), timer=get_trade_timer(), queue=get_trade_queue()
    )
    hand_back(timed, now=timed.not_before, timer=get_trade_timer(), queue=get_trade_queue())
    hand_back(timed, now=timed.not_before, timer=get_trade_timer(), queue=get_trade_queue())
    events.unregister("provide-client-params.sqs.SendMessage", unique_id="sent")

    assert [(p["QueueUrl"], p.get("DelaySeconds")) for p in sent] == [
        (timer_poller.queue_url, 900),
        (timer_poller.queue_url, 300),
        (get_settings().trade_queue_url, None),
        (get_settings().trade_queue_url, None),
    ]
    # The same hand-back twice is one order message (SQS's own deduplication).
    assert sent[2]["MessageDeduplicationId"] == sent[3]["MessageDeduplicationId"]


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

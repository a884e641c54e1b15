"""The local stack's pollers and `?wait` are woken by what moto does, not by a timer: with the
idle wait stretched to ten minutes, each of these would hang without its wake-up."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest

from infra.local import queues
from infra.local.queues import QueuePoller
from infra.local.resources import LocalResources, QueueSubscription
from infra.local.wakeups import TradeWritesHeard
from mtcore.metaapi.models import TradeAction
from mtcore.trading.models import TradeKind, TradeRequest, TradeStatus
from mtcore.trading.reads import MAX_WAIT_SECONDS, get_trade
from mtcore.trading.repository import get_trades_repository

NEVER_S = 600.0  # an idle poller's own receive, which no test waits for
WAIT_S = 10.0  # how long a test waits for a wake-up that comes at once (or after a 1 s delay)


@dataclass
class Receives:
    """The SQS client a poller uses, telling when a receive came back empty (the poller is idle)."""

    client: Any
    empty: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    waits: list[int] = field(default_factory=list)

    def receive_message(self, **request: Any) -> Any:
        self.waits.append(request["WaitTimeSeconds"])
        answer = self.client.receive_message(**request)
        if not answer.get("Messages"):
            self.empty.release()
        return answer

    def delete_message(self, **request: Any) -> Any:
        return self.client.delete_message(**request)


@dataclass
class Handled:
    bodies: list[str] = field(default_factory=list)
    fail_first: bool = False
    calls: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))

    def __call__(self, event: dict[str, Any], _: Any) -> dict[str, Any]:
        records = event["Records"]
        self.bodies += [record["body"] for record in records]
        failed = self.fail_first and len(self.bodies) == 1
        self.calls.release()
        return {"batchItemFailures": [{"itemIdentifier": records[0]["messageId"]}] if failed else []}


@pytest.fixture
def queue(aws: LocalResources, monkeypatch: pytest.MonkeyPatch) -> tuple[str, QueueSubscription]:
    monkeypatch.setattr(queues, "IDLE_RECEIVE_S", NEVER_S)
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="woken", Attributes={"VisibilityTimeout": str(int(NEVER_S))})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, QueueSubscription("tests.handler", url, arn, batch_size=10, reports_batch_item_failures=True)


@pytest.fixture
def idle_poller(queue: tuple[str, QueueSubscription]) -> Iterator[tuple[QueuePoller, Receives, Handled]]:
    receives, handled = Receives(boto3.client("sqs")), Handled()
    poller = QueuePoller(receives, queue[1], handled)  # type: ignore[arg-type]
    poller.start()
    assert receives.empty.acquire(timeout=WAIT_S), "the poller never received"
    yield poller, receives, handled
    poller.stop()


def test_a_sent_message_wakes_an_idle_poller(
    queue: tuple[str, QueueSubscription], idle_poller: tuple[QueuePoller, Receives, Handled]
) -> None:
    _, receives, handled = idle_poller

    boto3.client("sqs").send_message(QueueUrl=queue[0], MessageBody="hello")

    assert handled.calls.acquire(timeout=WAIT_S)
    assert handled.bodies == ["hello"]
    assert set(receives.waits) == {0}, "short receives only: the poller waits on the queue itself"


def test_a_delayed_message_is_handed_over_when_its_delay_ends(
    queue: tuple[str, QueueSubscription], idle_poller: tuple[QueuePoller, Receives, Handled]
) -> None:
    _, _, handled = idle_poller

    boto3.client("sqs").send_message(QueueUrl=queue[0], MessageBody="later", DelaySeconds=1)

    assert handled.calls.acquire(timeout=WAIT_S)
    assert handled.bodies == ["later"]


def test_a_failed_message_made_visible_again_wakes_the_poller(
    queue: tuple[str, QueueSubscription], idle_poller: tuple[QueuePoller, Receives, Handled]
) -> None:
    _, receives, handled = idle_poller
    handled.fail_first = True
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=queue[0], MessageBody="again")
    assert handled.calls.acquire(timeout=WAIT_S)
    assert receives.empty.acquire(timeout=WAIT_S), "the failed message stays hidden: the poller idles"
    (receipt_handle,) = receipt_handles(queue[0])

    sqs.change_message_visibility(QueueUrl=queue[0], ReceiptHandle=receipt_handle, VisibilityTimeout=0)

    assert handled.calls.acquire(timeout=WAIT_S)
    assert handled.bodies == ["again", "again"]


def receipt_handles(queue_url: str) -> list[str]:
    """The latest receipt handle of each of the queue's messages, as moto holds them."""
    from moto.sqs.models import sqs_backends

    name = queue_url.rsplit("/", 1)[-1]
    for regions in sqs_backends.values():
        for backend in regions.values():
            if name in backend.queues:
                return [str(message.receipt_handle) for message in backend.queues[name]._messages]
    return []


@dataclass
class OwnAccount:
    id: str

    def get(self, user_id: str, account_id: str) -> OwnAccount:
        return self


def test_a_wait_is_woken_by_the_trade_s_status_change(aws: LocalResources) -> None:
    now = datetime.now(UTC)
    request = TradeRequest(
        account_id="A1", user_id="alice", kind=TradeKind.OPEN, action=TradeAction.BUY, symbol="EURUSD",
        volume=Decimal("0.1"), created_at=now, updated_at=now,
    )  # fmt: skip
    trades = get_trades_repository()
    trades.put_new(request)
    reads: list[TradeStatus] = []
    first_read = threading.Event()
    answered: list[TradeRequest] = []

    class Trades:
        def get(self, account_id: str, trade_id: str) -> TradeRequest:
            read = trades.get(account_id, trade_id)
            reads.append(read.status)
            first_read.set()
            return read

    def wait() -> None:
        answered.append(
            get_trade(
                "alice", "A1", request.id, wait_seconds=NEVER_S, accounts=OwnAccount("A1"),  # type: ignore[arg-type]
                trades=Trades(), writes=TradeWritesHeard(),  # type: ignore[arg-type]
            )
        )  # fmt: skip

    waiting = threading.Thread(target=wait)
    waiting.start()
    assert first_read.wait(WAIT_S)
    trades.transition(request, TradeStatus.REJECTED, expected={TradeStatus.QUEUED}, at=datetime.now(UTC))

    # Before the wait's own deadline, when it would read once more without a wake-up.
    waiting.join(MAX_WAIT_SECONDS / 2)
    assert answered, "the wait was not woken by the write"
    assert answered[0].status is TradeStatus.REJECTED
    assert reads == [TradeStatus.QUEUED, TradeStatus.REJECTED], "one read before the write, one after"


def test_a_batching_window_hands_messages_sent_within_it_to_one_invocation(
    queue: tuple[str, QueueSubscription],
) -> None:
    url, subscription = queue
    handled = Handled()
    gathering = QueuePoller(boto3.client("sqs"), subscription, handled)
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="first")
    threading.Timer(0.3, lambda: sqs.send_message(QueueUrl=url, MessageBody="second")).start()

    assert gathering.poll_once(gather_seconds=2) == 2

    assert handled.bodies == ["first", "second"]
    assert handled.calls.acquire(timeout=0)
    assert not handled.calls.acquire(timeout=0), "one invocation for both"


def test_a_window_ends_a_batch_that_does_not_fill(queue: tuple[str, QueueSubscription]) -> None:
    url, subscription = queue
    handled = Handled()
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody="alone")

    assert QueuePoller(boto3.client("sqs"), subscription, handled).poll_once(gather_seconds=0.5) == 1
    assert handled.bodies == ["alone"]

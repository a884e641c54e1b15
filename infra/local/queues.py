"""What Lambda's SQS event source does, for the local stack: poll a queue, hand the function a
batch, delete only the records it did not report as failed. Failed records come back after their
visibility timeout, and a FIFO group stays blocked while one of its messages is in flight.

A poller receives as soon as its queue changes (a message sent, deleted or made visible) or a
hidden message shows, as a long poll returns when a message arrives; it hears of both from moto
in this process (`wakeups`) rather than from long polls, which moto answers late when a message
becomes receivable without being sent (a FIFO group freed, a delay or visibility timeout over)."""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from infra.local.gateway import LambdaContext
from infra.local.wakeups import queue_activity

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

    from infra.local.resources import QueueSubscription, StreamSubscription

Handler = Callable[[dict[str, Any], Any], Any]
FUNCTION_TIMEOUT_S = 60.0
# The longest an idle poller waits without a wake-up before it receives again anyway.
IDLE_RECEIVE_S = 1.0
STREAM_READ_EVERY_S = 0.2


def load_handler(dotted: str) -> Handler:
    module, _, name = dotted.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module), name)
    return handler


def _record(message: MessageTypeDef, queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    }


class QueuePoller:
    def __init__(self, client: SQSClient, subscription: QueueSubscription, handler: Handler) -> None:
        self._client = client
        self._subscription = subscription
        self._handler = handler
        self._activity = queue_activity(subscription.queue_url)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"poll-{subscription.handler}", daemon=True)

    @property
    def queue_url(self) -> str:
        return self._subscription.queue_url

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._activity.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            # Read before the receive: a change during it makes the wait below return at once.
            seen = self._activity.count
            try:
                handed = self.poll_once(gather_seconds=self._subscription.batching_window_seconds)
            except Exception as error:
                print(f"  poller {self._subscription.handler}: {error}", flush=True)
                self._stop.wait(1)
                continue
            if not handed:
                self._activity.wait(seen, timeout=self._activity.next_visible_in(IDLE_RECEIVE_S))

    def poll_once(self, wait_seconds: int = 0, gather_seconds: float = 0.0) -> int:
        """Receive one batch and hand it to the function; answers how many records it held. With
        `gather_seconds` (the mapping's batching window) a batch that is not full keeps receiving
        for that long after its first message."""
        sub = self._subscription
        seen = self._activity.count
        messages = self._receive(sub.batch_size, wait_seconds)
        if not messages:
            return 0
        gathered_by = time.monotonic() + gather_seconds
        while len(messages) < sub.batch_size and (left := gathered_by - time.monotonic()) > 0:
            self._activity.wait(seen, timeout=min(left, self._activity.next_visible_in(left)))
            seen = self._activity.count
            messages += self._receive(sub.batch_size - len(messages), 0)
        event = {"Records": [_record(message, sub.queue_arn) for message in messages]}
        context = LambdaContext(sub.handler, time.monotonic() + FUNCTION_TIMEOUT_S, str(uuid.uuid4()))
        result = self._handler(event, context) or {}
        failed = {failure["itemIdentifier"] for failure in result.get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] not in failed:
                self._client.delete_message(QueueUrl=sub.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def _receive(self, at_most: int, wait_seconds: int) -> list[MessageTypeDef]:
        answer = self._client.receive_message(
            QueueUrl=self._subscription.queue_url,
            MaxNumberOfMessages=at_most,
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
        )
        return answer.get("Messages", [])


def scheduled_event() -> dict[str, Any]:
    """What EventBridge sends a function on a schedule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }


class Timer:
    """Invokes a function every `every_seconds`, as an EventBridge schedule does."""

    def __init__(self, handler: Handler, every_seconds: float, name: str) -> None:
        self._handler = handler
        self._every = every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"timer-{name}", daemon=True)
        self._name = name

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                context = LambdaContext(self._name, time.monotonic() + FUNCTION_TIMEOUT_S, str(uuid.uuid4()))
                self._handler(scheduled_event(), context)
            except Exception as error:
                print(f"  timer {self._name}: {error}", flush=True)


class StreamPoller:
    """What Lambda's DynamoDB stream event source does: read new stream records in order and hand
    them to the function in batches (from the newest point, as the deployed mapping starts)."""

    def __init__(
        self, dynamodb: Any, streams: Any, subscription: StreamSubscription, handler: Handler
    ) -> None:
        self._streams = streams
        self._subscription = subscription
        self._handler = handler
        self._stream_arn: str = dynamodb.describe_table(TableName=subscription.table_name)["Table"][
            "LatestStreamArn"
        ]
        shards = streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]["Shards"]
        self._iterators = [
            streams.get_shard_iterator(
                StreamArn=self._stream_arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            for shard in shards
        ]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"stream-{subscription.handler}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        # Lambda reads a shard about four times a second and hands over what came meanwhile in
        # one batch; reading at every write would call the function once per record instead.
        while not self._stop.wait(STREAM_READ_EVERY_S):
            try:
                self.poll_once()
            except Exception as error:
                print(f"  stream {self._subscription.handler}: {error}", flush=True)

    def poll_once(self) -> int:
        handed = 0
        for number, iterator in enumerate(self._iterators):
            answer = self._streams.get_records(ShardIterator=iterator, Limit=self._subscription.batch_size)
            self._iterators[number] = answer["NextShardIterator"]
            records = [record | {"eventSourceARN": self._stream_arn} for record in answer.get("Records", [])]
            if records:
                context = LambdaContext(
                    self._subscription.handler, time.monotonic() + FUNCTION_TIMEOUT_S, str(uuid.uuid4())
                )
                self._handler({"Records": records}, context)
                handed += len(records)
        return handed

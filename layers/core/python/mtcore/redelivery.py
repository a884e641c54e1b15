"""One notion of "not now" for every queue consumer: logic decides that a message must come back
later and after how long (`RetryLater`); `delivered` hands it back to its queue for that wait and
reports the record failed, so the batch keeps it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

ResultT = TypeVar("ResultT")
# SQS takes a visibility of at most 12 hours.
_MAX_WAIT_S = 43_200


class RetryLater(Exception):
    """Deliver this message again after `seconds`."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(f"{reason}; again in {seconds:.0f} s")
        self.seconds = min(max(0.0, seconds), _MAX_WAIT_S)


class HandsBack(Protocol):
    def retry_in(self, receipt_handle: str, seconds: float) -> None: ...


def delivered(receipt_handle: str, queue: HandsBack, work: Callable[[], ResultT]) -> ResultT:
    """Run one delivery. On `RetryLater` the message goes back to the queue for its wait, and the
    error is raised again for the batch processor to report the record failed."""
    try:
        return work()
    except RetryLater as later:
        queue.retry_in(receipt_handle, later.seconds)
        raise


class QueueHandBack:
    """`HandsBack` for a queue of its own: the message shows again after the wait. The trade,
    sync and provisioning queues are ones."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def retry_in(self, receipt_handle: str, seconds: float) -> None:
        self._client.change_message_visibility(
            QueueUrl=self._queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=min(max(0, round(seconds)), _MAX_WAIT_S),
        )


@dataclass(frozen=True)
class HandBackByArn:
    """`HandsBack` for the queue a record came from (its `eventSourceARN`): its URL is asked only
    when a message is handed back, once per container."""

    queue_arn: str

    def retry_in(self, receipt_handle: str, seconds: float) -> None:
        from mtcore.aws import sqs_client

        client = sqs_client()
        if self.queue_arn not in _urls:
            name = self.queue_arn.rsplit(":", 1)[-1]
            _urls[self.queue_arn] = client.get_queue_url(QueueName=name)["QueueUrl"]
        QueueHandBack(client, _urls[self.queue_arn]).retry_in(receipt_handle, seconds)


_urls: dict[str, str] = {}

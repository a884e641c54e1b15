"""One notion of "not now" for every queue consumer: logic decides that a message must come back
later and after how long (`RetryLater`); `delivered` hands it back to its queue for that wait and
reports the record failed, so the batch keeps it."""

from __future__ import annotations

from collections.abc import Callable
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
    """`HandsBack` for a queue of its own: the message shows again after the wait."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    @classmethod
    def of_arn(cls, client: SQSClient, queue_arn: str) -> QueueHandBack:
        """The queue a record came from (its `eventSourceARN`), wherever its URL is."""
        return cls(client, _queue_url(client, queue_arn))

    def retry_in(self, receipt_handle: str, seconds: float) -> None:
        self._client.change_message_visibility(
            QueueUrl=self._queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=min(max(0, round(seconds)), _MAX_WAIT_S),
        )


_urls: dict[str, str] = {}


def _queue_url(client: SQSClient, queue_arn: str) -> str:
    """Asked once per container: the queue's name is the ARN's last part."""
    if queue_arn not in _urls:
        _urls[queue_arn] = client.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[-1])["QueueUrl"]
    return _urls[queue_arn]

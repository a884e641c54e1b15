"""The sync queue: a standard queue, one message per account sync, spread out with jitter."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mtcore.aws import sqs_client
from mtcore.redelivery import QueueHandBack
from mtcore.settings import get_settings
from mtcore.sync.models import SyncLog, SyncMessage, SyncStatus

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from mypy_boto3_sqs import SQSClient

    from mtcore.sync.state import SyncStateRepository

BATCH = 10  # SQS's largest batch
MAX_JITTER_SECONDS = 20
SENDERS = 8  # batches in flight at once: 10,000 accounts are 1,000 round trips


class SyncQueue(QueueHandBack):
    def __init__(
        self,
        client: SQSClient,
        queue_url: str,
        jitter: Callable[[], int] = lambda: random.randint(0, MAX_JITTER_SECONDS),  # noqa: S311 - spreading load
    ) -> None:
        super().__init__(client, queue_url)
        self._jitter = jitter

    def send(self, message: SyncMessage) -> None:
        """At once: a sync someone is waiting for (after a trade, or asked through the API)."""
        self._client.send_message(QueueUrl=self._queue_url, MessageBody=message.model_dump_json())

    def send_spread(self, messages: Sequence[SyncMessage]) -> int:
        """Scheduled syncs in batches of 10, each delayed a little so MetaApi sees no burst, the
        batches sent side by side. Answers how many were sent; raises if SQS refused any (those
        accounts are taken already, so they sync at their next due time)."""
        batches = [messages[start : start + BATCH] for start in range(0, len(messages), BATCH)]
        with ThreadPoolExecutor(max_workers=SENDERS) as pool:
            refused = sum(pool.map(self._send_batch, batches))
        if refused:
            raise RuntimeError(f"SQS refused {refused} of {len(messages)} sync messages")
        return len(messages)

    def _send_batch(self, batch: Sequence[SyncMessage]) -> int:
        answer = self._client.send_message_batch(
            QueueUrl=self._queue_url,
            Entries=[
                {
                    "Id": str(number),
                    "MessageBody": message.model_dump_json(),
                    "DelaySeconds": self._jitter(),
                }
                for number, message in enumerate(batch)
            ],
        )
        return len(answer.get("Failed", []))


def get_sync_queue() -> SyncQueue:
    queue_url = get_settings().sync_queue_url
    if not queue_url:
        raise RuntimeError("SYNC_QUEUE_URL is not configured")
    return SyncQueue(sqs_client(), queue_url)


def queue_requested(message: SyncMessage, *, state: SyncStateRepository, queue: SyncQueue) -> SyncLog:
    """Queue a sync asked for, with its log showing it queued until a worker runs it."""
    log = SyncLog(
        sync_id=message.sync_id,
        account_id=message.account_id,
        type=message.type,
        reason=message.reason,
        status=SyncStatus.QUEUED,
        started_at=datetime.now(UTC),
    )
    # The log first: a message whose log is missing could not be followed.
    state.queue_log(log)
    queue.send(message)
    return log

"""The provisioning queue: FIFO, one message group per account (its operations run in order, one
at a time), one message per operation (its id is the deduplication id).

A message waits for MetaApi by being handed back (`retry_in`): every receive counts towards the
queue's `maxReceiveCount`, so the worker's waits grow and it concludes an operation itself well
before the queue would give up on its message (`MAX_RECEIVES`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mtcore.aws import sqs_client
from mtcore.provisioning.models import ProvisioningMessage
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# The queue's maxReceiveCount (infra reads it from here); the worker gives up a few before it.
MAX_RECEIVES = 100


class ProvisioningQueue:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def send(self, message: ProvisioningMessage) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=message.model_dump_json(),
            MessageGroupId=message.account_id,
            MessageDeduplicationId=message.operation_id,
        )

    def retry_in(self, receipt_handle: str, seconds: float) -> None:
        self._client.change_message_visibility(
            QueueUrl=self._queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=max(0, round(seconds))
        )


def get_provisioning_queue() -> ProvisioningQueue:
    queue_url = get_settings().provisioning_queue_url
    if not queue_url:
        raise RuntimeError("PROVISIONING_QUEUE_URL is not configured")
    return ProvisioningQueue(sqs_client(), queue_url)

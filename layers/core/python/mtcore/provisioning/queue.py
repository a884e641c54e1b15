"""The provisioning queue: FIFO, one message group per account (its operations run in order, one
at a time), one message per operation (its id is the deduplication id).

A message waits for MetaApi by being handed back (`retry_in`): every receive counts towards the
queue's `maxReceiveCount`, so the worker's waits grow and it concludes an operation itself well
before the queue would give up on its message (`MAX_RECEIVES`)."""

from __future__ import annotations

from mtcore.aws import sqs_client
from mtcore.provisioning.models import ProvisioningMessage
from mtcore.redelivery import QueueHandBack
from mtcore.settings import get_settings

# The queue's maxReceiveCount (infra reads it from here); the worker gives up a few before it.
MAX_RECEIVES = 100


class ProvisioningQueue(QueueHandBack):
    def send(self, message: ProvisioningMessage) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=message.model_dump_json(),
            MessageGroupId=message.account_id,
            MessageDeduplicationId=message.operation_id,
        )


def get_provisioning_queue() -> ProvisioningQueue:
    queue_url = get_settings().provisioning_queue_url
    if not queue_url:
        raise RuntimeError("PROVISIONING_QUEUE_URL is not configured")
    return ProvisioningQueue(sqs_client(), queue_url)

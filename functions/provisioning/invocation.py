"""What one invocation of the provisioning worker does: one step of an account's operation per
message; a message that waits for MetaApi is handed back for its wait (a reported failure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response

from mtcore.observability import logger
from mtcore.provisioning.models import ProvisioningMessage
from mtcore.provisioning.queue import get_provisioning_queue
from mtcore.provisioning.worker import get_provisioning_worker
from mtcore.redelivery import delivered

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

# One account's waiting operation never holds another account's (a group per account).
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
# A message handed back for a wait is a reported failure, not an error of the invocation.
processor.raise_on_entire_batch_failure = False


def record_handler(record: SQSRecord) -> None:
    message = ProvisioningMessage.model_validate_json(record.body)
    logger.append_keys(accountId=message.account_id, operationId=message.operation_id)
    sent_at = datetime.fromtimestamp(int(record.attributes.sent_timestamp) / 1000, UTC)
    delivered(
        record.receipt_handle,
        get_provisioning_queue(),
        lambda: get_provisioning_worker().run(
            message, receive_count=int(record.attributes.approximate_receive_count), sent_at=sent_at
        ),
    )


def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )

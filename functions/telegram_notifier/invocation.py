"""One batch of bus events, each delivered to its owner by telegram, once (see
`mtcore.notifications.delivery`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from mtcore.notifications.delivery import deliver_record
from mtcore.notifications.models import Channel

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    deliver_record(
        Channel.TELEGRAM, record.body, receipt_handle=record.receipt_handle, queue_arn=record.event_source_arn
    )


def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )

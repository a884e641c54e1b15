"""What one invocation of the sync worker does: one account sync per message, partial batch
failures; a trade's sync that another full sync in the batch already answered is not run again."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from mtcore.observability import logger, metrics
from mtcore.redelivery import delivered
from mtcore.sync.models import SyncMessage
from mtcore.sync.queue import get_sync_queue
from mtcore.sync.requests import SyncsInBatch, run_sync_message
from mtcore.sync.worker import get_sync_worker
from mtcore.trading import get_keyless_desk

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord, batch: SyncsInBatch) -> None:
    message = SyncMessage.model_validate_json(record.body)
    logger.append_keys(accountId=message.account_id, syncId=message.sync_id)
    if batch.covers(message):
        logger.info("a full sync in this batch already read the account after this trade")
        metrics.add_metric(name="SyncsCovered", unit=MetricUnit.Count, value=1)
        return
    log = delivered(
        record.receipt_handle,
        get_sync_queue(),
        lambda: run_sync_message(message, worker=get_sync_worker(), desk=get_keyless_desk()),
    )
    batch.ran(message, log)
    if log is not None:
        # One metric per outcome (SyncsSuccess, SyncsPartial, SyncsError) for the error-rate alarm.
        metrics.add_metric(name=f"Syncs{log.status.value.title()}", unit=MetricUnit.Count, value=1)


def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event,
        record_handler=functools.partial(record_handler, batch=SyncsInBatch()),
        processor=processor,
        context=context,
    )

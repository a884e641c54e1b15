"""One batch of bus events: each pushed to its owner's connections; a record that fails comes
back (its frame is then kept and pushed again: a client may see an event twice, never miss it)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from mtcore.observability import metrics
from mtcore.realtime.broadcast import broadcast
from mtcore.realtime.connections import get_connections_repository
from mtcore.realtime.event_log import get_event_log
from mtcore.realtime.push import get_push

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    sent = broadcast(
        json.loads(record.body),
        connections=get_connections_repository(),
        log=get_event_log(),
        push=get_push(),
    )
    if sent is not None:
        metrics.add_metric(name="FramesPushed", unit=MetricUnit.Count, value=sent.sent)
        metrics.add_metric(name="ConnectionsGone", unit=MetricUnit.Count, value=sent.gone)


def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )

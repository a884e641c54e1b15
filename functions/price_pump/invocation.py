"""One run of the price pump per message: it pumps until nobody watches, or hands itself on to a
new message of its queue before its time is up."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from mtcore.accounts import get_accounts_repository, get_metaapi_access
from mtcore.observability import metrics
from mtcore.realtime.connections import get_connections_repository
from mtcore.realtime.pump import PricePump, PumpMessage, get_pump_control
from mtcore.realtime.push import get_push
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    connections = get_connections_repository()
    pump = PricePump(
        connections=connections,
        accounts=get_accounts_repository(),
        access=get_metaapi_access(),
        push=get_push(),
        control=get_pump_control(connections),
        run_s=get_settings().price_pump_seconds,
    )
    ticks = pump.run(PumpMessage.model_validate_json(record.body).owner)
    metrics.add_metric(name="PricePumpTicks", unit=MetricUnit.Count, value=ticks)


def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )

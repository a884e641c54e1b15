"""Lambda entry point of the dead-letter consumer (the order queue's FIFO dead-letter queue)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from pydantic import ValidationError

from mtcore.accounts.access import get_metaapi_access
from mtcore.accounts.repository import get_accounts_repository
from mtcore.observability import logger, metrics
from mtcore.trading.dead_letters import conclude
from mtcore.trading.queue import TradeMessage
from mtcore.trading.repository import get_trades_repository

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

processor = SqsFifoPartialProcessor(skip_group_on_error=True)


def record_handler(record: SQSRecord) -> None:
    try:
        message = TradeMessage.model_validate_json(record.body)
    except ValidationError:
        # Not a trade message at all: nothing to conclude, and retrying cannot help.
        logger.error("unreadable dead letter dropped", extra={"messageId": record.message_id})
        metrics.add_metric(name="DeadLettersUnreadable", unit=MetricUnit.Count, value=1)
        return
    final = conclude(
        message,
        accounts=get_accounts_repository(),
        trades=get_trades_repository(),
        access=get_metaapi_access(),
    )
    if final is not None:
        metrics.add_metric(name=f"Trades{final.status.value.title()}", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )

"""What one invocation of the trade timer does (a standard SQS queue with per-message delays):
each parked trade that is due goes back to its account's group in the order queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from mtcore.observability import logger
from mtcore.trading.queue import get_trade_queue
from mtcore.trading.timer import TimedTrade, get_trade_timer, hand_back

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    timed = TimedTrade.model_validate_json(record.body)
    logger.append_keys(tradeId=timed.trade_id, accountId=timed.account_id)
    hand_back(timed, now=datetime.now(UTC), timer=get_trade_timer(), queue=get_trade_queue())


def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )

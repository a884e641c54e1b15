"""What one invocation of the order executor does (SQS FIFO, partial batch failures).

A failed record fails only its own account's group (`skip_group_on_error`): one account's trouble
never holds another account's trades."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response

from mtcore.observability import logger, metrics
from mtcore.portfolio import get_orders_repository
from mtcore.redelivery import delivered
from mtcore.signals import SignalDispatch
from mtcore.trading.acceptance import get_keyless_desk
from mtcore.trading.delivery import execute_trade_message
from mtcore.trading.executor import Done
from mtcore.trading.queue import TradeMessage, get_trade_queue
from mtcore.trading.timer import get_trade_timer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

processor = SqsFifoPartialProcessor(skip_group_on_error=True)
# A record kept for a short retry is a reported failure, not an error of the invocation: with one
# record per batch, raising would count every retry as a failed invocation.
processor.raise_on_entire_batch_failure = False


def record_handler(record: SQSRecord) -> None:
    message = TradeMessage.model_validate_json(record.body)
    logger.append_keys(tradeId=message.trade_id, accountId=message.account_id)
    metrics.add_metric(name="TradeDeliveries", unit=MetricUnit.Count, value=1)
    step = delivered(
        record.receipt_handle,
        get_trade_queue(),
        lambda: execute_trade_message(
            message,
            receive_count=int(record.attributes.approximate_receive_count),
            desk=get_keyless_desk(),
            orders=get_orders_repository(),
            signals=SignalDispatch,
            timer=get_trade_timer(),
        ),
    )
    if isinstance(step, Done):
        # One metric per final status (TradesExecuted, TradesRejected, TradesUnknown, …) for alarms.
        metrics.add_metric(name=f"Trades{step.request.status.value.title()}", unit=MetricUnit.Count, value=1)


def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )

"""Lambda entry point of the trade sweeper (an EventBridge schedule, every minute)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from mtcore.observability import logger, metrics
from mtcore.trading.queue import get_trade_queue
from mtcore.trading.repository import get_trades_repository
from mtcore.trading.sweeper import sweep

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_parser(model=EventBridgeModel)
def lambda_handler(event: EventBridgeModel, context: LambdaContext) -> dict[str, Any]:
    requeued = sweep(datetime.now(UTC), trades=get_trades_repository(), queue=get_trade_queue())
    metrics.add_metric(name="TradesRequeued", unit=MetricUnit.Count, value=requeued)
    return {"requeued": requeued}

"""Lambda entry point of the daily summaries (an EventBridge schedule, hourly)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from mtcore.accounts import get_sync_schedule_repository
from mtcore.aws import events_client
from mtcore.notifications.repository import get_notifications_repository
from mtcore.notifications.summary import DailySummaries
from mtcore.observability import logger, metrics
from mtcore.settings import get_settings
from mtcore.trading import get_keyless_desk

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_parser(model=EventBridgeModel)
def lambda_handler(event: EventBridgeModel, context: LambdaContext) -> dict[str, Any]:
    bus = get_settings().event_bus_name
    if not bus:
        raise RuntimeError("EVENT_BUS_NAME is not configured")
    summaries = DailySummaries(
        schedule=get_sync_schedule_repository(),
        notifications=get_notifications_repository(),
        desk=get_keyless_desk(),
        events=events_client(),
        bus_name=bus,
    )
    published = summaries.run(datetime.now(UTC))
    metrics.add_metric(name="DailySummaries", unit=MetricUnit.Count, value=published)
    return {"published": published}

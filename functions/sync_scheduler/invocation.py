"""What one tick of the sync scheduler does: every account due is claimed and queued for a sync."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from mtcore.accounts.access import get_metaapi_access
from mtcore.accounts.schedule import get_sync_schedule_repository
from mtcore.observability import metrics
from mtcore.sync.queue import get_sync_queue
from mtcore.sync.scheduler import SyncScheduler
from mtcore.sync.state import get_sync_state_repository

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@event_parser(model=EventBridgeModel)
def handle(event: EventBridgeModel, context: LambdaContext) -> dict[str, Any]:
    scheduler = SyncScheduler(
        schedule=get_sync_schedule_repository(),
        queue=get_sync_queue(),
        platform=get_metaapi_access().platform(),
        backoff_until=get_sync_state_repository().backoff_until,
    )
    tick = scheduler.tick()
    metrics.add_metric(name="SyncsQueued", unit=MetricUnit.Count, value=tick.queued)
    return {"due": tick.due, "queued": tick.queued, "skipped": tick.skipped}

"""What one invocation does: the table's stream → trade and account events on the bus, and a sync
of every account a trade changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from mtcore.accounts.repository import get_accounts_repository
from mtcore.observability import metrics
from mtcore.sync.events import account_event_entry, detail_types_of
from mtcore.sync.models import SyncMessage, SyncReason, SyncType
from mtcore.sync.queue import get_sync_queue
from mtcore.trading.events import changed_the_account, get_trade_events, settled_trade

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    request = settled_trade(record.raw_event)
    if request is None:
        _publish_account_event(record.raw_event)
        return
    get_trade_events().publish([request])
    metrics.add_metric(name="TradeEventsPublished", unit=MetricUnit.Count, value=1)
    if changed_the_account(request):
        # Deals, balances and anything the trade closed reach the store within seconds.
        get_sync_queue().send(
            SyncMessage(
                account_id=request.account_id,
                user_id=request.user_id,
                type=SyncType.FULL,
                reason=SyncReason.TRADE,
            )
        )


def _publish_account_event(raw: dict[str, Any]) -> None:
    found = detail_types_of(raw)
    if not found:
        return
    bus, owner_of = get_trade_events(), get_accounts_repository().owner_of
    bus.put([account_event_entry(detail_type, item, bus.bus_name, owner_of) for detail_type, item in found])
    for detail_type, _ in found:
        metrics.add_metric(name=detail_type, unit=MetricUnit.Count, value=1)


def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )

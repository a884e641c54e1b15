"""Trade events, read from the table's stream: one event per status change to a final status.

Published from the stream, never by a second call after the write, so an event exists exactly
when the write happened. Consumers (notifications, live pushes) subscribe on the event bus."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mtcore.aws import events_client
from mtcore.settings import get_settings
from mtcore.store.codec import from_item
from mtcore.trading.models import PARENTS, SETTLED, TradeRequest, TradeStatus

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

SOURCE = "mt-backend.trades"
DETAIL_TYPES = {status: f"Trade{status.value.title()}" for status in SETTLED}


def settled_trade(record: dict[str, Any]) -> TradeRequest | None:
    """The trade request a stream record settled, if it settled one."""
    change = record.get("dynamodb") or {}
    new, old = change.get("NewImage"), change.get("OldImage") or {}
    if not new or new.get("entity", {}).get("S") != "TRADE":
        return None
    status = new.get("status", {}).get("S")
    if status == old.get("status", {}).get("S") or status not in {s.value for s in SETTLED}:
        return None
    return TradeRequest.model_validate(from_item(new))


def changed_the_account(request: TradeRequest) -> bool:
    """Whether a settled trade changed what the broker holds (a parent's children did instead)."""
    changed = {TradeStatus.EXECUTED, TradeStatus.PLACED, TradeStatus.PARTIAL}
    return request.status in changed and request.kind not in PARENTS


def event_entry(request: TradeRequest, bus_name: str) -> dict[str, Any]:
    detail = request.model_dump(mode="json", exclude={"timeline"}) | {"userId": request.user_id}
    return {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPES[TradeStatus(request.status)],
        "Detail": json.dumps(detail),
        "EventBusName": bus_name,
        "Resources": [],
    }


class TradeEvents:
    def __init__(self, client: EventBridgeClient, bus_name: str) -> None:
        self._client = client
        self.bus_name = bus_name

    def publish(self, requests: list[TradeRequest]) -> None:
        self.put([event_entry(request, self.bus_name) for request in requests])

    def put(self, entries: list[dict[str, Any]]) -> None:
        """All or an error: a failed entry fails the stream batch, which is then retried."""
        for start in range(0, len(entries), 10):
            answer = self._client.put_events(Entries=entries[start : start + 10])  # type: ignore[arg-type]
            if answer.get("FailedEntryCount"):
                raise RuntimeError(f"{answer['FailedEntryCount']} events were not accepted")


def get_trade_events() -> TradeEvents:
    bus = get_settings().event_bus_name
    if not bus:
        raise RuntimeError("EVENT_BUS_NAME is not configured")
    return TradeEvents(events_client(), bus)

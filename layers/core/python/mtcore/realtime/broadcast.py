"""Events from the bus to the dashboards: each trade, position, order, account, sync and risk
event becomes one frame, kept 24 hours for clients that were away, and pushed to its owner's
connections only (those subscribed to its account, or to no account in particular), side by
side. Connections that are gone are removed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mtcore.ids import new_ulid
from mtcore.observability import logger
from mtcore.realtime.models import Frame, frame_type_of

if TYPE_CHECKING:
    from mtcore.realtime.connections import ConnectionsRepository
    from mtcore.realtime.event_log import EventLog
    from mtcore.realtime.push import Push

# What a frame leaves out of the event's detail: who it is for, said once in the frame.
_ENVELOPE = ("userId", "accountId")


@dataclass(frozen=True)
class Broadcast:
    sent: int
    gone: int


def frame_of(event: dict[str, Any], *, now: datetime | None = None) -> tuple[str, Frame] | None:
    """The owner and the frame of an event from the bus; None for events no dashboard shows."""
    detail: dict[str, Any] = event.get("detail") or {}
    kind = frame_type_of(str(event.get("detail-type", "")))
    owner = detail.get("userId")
    if kind is None or not isinstance(owner, str):
        return None
    frame = Frame(
        type=kind,
        event_id=new_ulid(),
        detail_type=str(event["detail-type"]),
        account_id=detail.get("accountId"),
        time=now or datetime.now(UTC),
        data={name: value for name, value in detail.items() if name not in _ENVELOPE},
    )
    return owner, frame


def broadcast(
    event: dict[str, Any], *, connections: ConnectionsRepository, log: EventLog, push: Push
) -> Broadcast | None:
    found = frame_of(event)
    if found is None:
        return None
    owner, frame = found
    # Kept first: a frame a client saw is always there for the client that missed it.
    log.append(owner, frame)
    targets = [c.connection_id for c in connections.of_user(owner) if c.wants(frame.account_id)]
    gone = push.send_all((target, frame) for target in targets)
    for connection_id in gone:
        connections.disconnect(connection_id)
    logger.info(
        "event pushed",
        extra={"detailType": frame.detail_type, "eventId": frame.event_id, "sent": len(targets) - len(gone)},
    )
    return Broadcast(sent=len(targets) - len(gone), gone=len(gone))

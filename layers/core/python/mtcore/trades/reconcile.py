"""After an ambiguous answer, what the broker actually did: looked up by the request's clientId
(opens) or by the position's state against the snapshot taken when the request was made (closes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from mtcore.metaapi.errors import MetaApiError
from mtcore.trades.models import BrokerAnswer, TradeKind, TradeRequest, TradeStatus

if TYPE_CHECKING:
    from mtcore.metaapi.client import MetaApiClient

# History is searched from a little before the request was made, for clock differences.
_HISTORY_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Found:
    status: TradeStatus
    note: str
    broker: BrokerAnswer
    price: Decimal | None = None


@dataclass(frozen=True)
class Absent:
    """The broker has no trace of it: it was not executed."""

    note: str


@dataclass(frozen=True)
class CannotTell:
    note: str


Finding = Found | Absent | CannotTell


def reconcile(
    client: MetaApiClient, remote: tuple[str, str | None], request: TradeRequest, now: datetime
) -> Finding:
    try:
        if request.kind is TradeKind.OPEN:
            return _find_open(client, remote, request, now)
        return _find_close(client, remote, request)
    except MetaApiError as error:
        return CannotTell(f"the broker could not be asked: {error.message}")


def _find_open(
    client: MetaApiClient, remote: tuple[str, str | None], request: TradeRequest, now: datetime
) -> Finding:
    for position in client.positions(remote):
        if position.client_id == request.client_id:
            return Found(
                TradeStatus.EXECUTED,
                f"found open position {position.id} carrying clientId {request.client_id}",
                BrokerAnswer(position_id=position.id),
                price=position.open_price,
            )
    for order in client.orders(remote):
        if order.get("clientId") == request.client_id:
            return Found(
                TradeStatus.PLACED,
                f"found pending order {order.get('id')} carrying clientId {request.client_id}",
                BrokerAnswer(order_id=str(order.get("id"))),
            )
    # Filled and already closed again: only the deals remember it.
    start = request.created_at - _HISTORY_MARGIN
    for deal in client.history_deals(remote, start, now + _HISTORY_MARGIN):
        if deal.get("clientId") == request.client_id and deal.get("entryType") == "DEAL_ENTRY_IN":
            price = deal.get("price")
            return Found(
                TradeStatus.EXECUTED,
                f"found deal {deal.get('id')} carrying clientId {request.client_id}",
                BrokerAnswer(order_id=_text(deal.get("orderId")), position_id=_text(deal.get("positionId"))),
                price=Decimal(str(price)) if price is not None else None,
            )
    return Absent(f"no position, order or deal carries clientId {request.client_id}")


def _find_close(client: MetaApiClient, remote: tuple[str, str | None], request: TradeRequest) -> Finding:
    position_id = request.position_id or ""
    current = next((p for p in client.positions(remote) if p.id == position_id), None)
    if current is None:
        return Found(
            TradeStatus.EXECUTED, f"position {position_id} is closed", BrokerAnswer(position_id=position_id)
        )
    before = request.position_volume
    if before is not None and current.volume < before:
        return Found(
            TradeStatus.EXECUTED,
            f"position {position_id} went from {before} to {current.volume} lots",
            BrokerAnswer(position_id=position_id),
        )
    return Absent(f"position {position_id} is still open with {current.volume} lots")


def _text(value: object) -> str | None:
    return None if value is None else str(value)

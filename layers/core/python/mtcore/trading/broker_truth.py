"""After an ambiguous answer, what the broker actually did, per action: an order by its clientId;
a close by the position gone (with its closing deal) or smaller than the snapshot taken when the
request was made; a modify by the levels now equal to the target; a cancel by the order gone from
the pending ones and in the history as canceled.

Open positions and orders are read with `refreshTerminalState`, so MetaApi answers the terminal's
state as of now, never a cached list a reconnecting terminal left behind. A record merely missing
from a list proves nothing: only the history (a closing deal, a done order) does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from mtcore.metaapi.client import parsed_answer
from mtcore.metaapi.errors import MetaApiError
from mtcore.portfolio import Deal
from mtcore.trading.models import OPENING, BrokerAnswer, TradeKind, TradeRequest, TradeStatus

if TYPE_CHECKING:
    from mtcore.metaapi.client import MetaApiClient

# History is searched from a little before the request was made, for clock differences.
_HISTORY_MARGIN = timedelta(minutes=5)
SENT = "sent to the broker"  # the timeline note of each send
# A trade is taken for absent only this long after its last send: brokers have been seen to
# execute a trade well after answering that it timed out.
ABSENT_AFTER = timedelta(seconds=15)


def last_sent_at(request: TradeRequest) -> datetime:
    sends = [step.at for step in request.timeline if step.status is TradeStatus.SENDING and step.note == SENT]
    return sends[-1] if sends else request.updated_at


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


def find_at_broker(
    client: MetaApiClient, remote: tuple[str, str | None], request: TradeRequest, now: datetime
) -> Finding:
    try:
        if request.kind in OPENING:
            return _find_open(client, remote, request, now)
        if request.kind is TradeKind.MODIFY_POSITION:
            return _find_position_modified(client, remote, request)
        if request.kind is TradeKind.MODIFY_ORDER:
            return _find_order_modified(client, remote, request)
        if request.kind is TradeKind.CANCEL:
            return _find_canceled(client, remote, request)
        return _find_close(client, remote, request)
    except MetaApiError as error:
        return CannotTell(f"the broker could not be asked: {error.message}")


def _find_open(
    client: MetaApiClient, remote: tuple[str, str | None], request: TradeRequest, now: datetime
) -> Finding:
    # A pending order found already filled was still placed: its own outcome is PLACED.
    filled = TradeStatus.PLACED if request.kind is TradeKind.PLACE else TradeStatus.EXECUTED
    open_now = client.positions(remote, refresh=True)
    for position in open_now:
        if position.client_id == request.client_id:
            return Found(
                filled,
                f"found open position {position.id} carrying clientId {request.client_id}",
                BrokerAnswer(position_id=position.id),
                price=position.open_price,
            )
    for order in client.orders(remote, refresh=True):
        if order.client_id == request.client_id:
            return Found(
                TradeStatus.PLACED,
                f"found pending order {order.id} carrying clientId {request.client_id}",
                BrokerAnswer(order_id=order.id),
            )
    # On a netting account an order fills into the symbol's one position: its deals tell.
    for position in open_now:
        if position.symbol != request.symbol:
            continue
        for deal in client.history_deals_by_position(remote, position.id):
            if deal.get("clientId") == request.client_id:
                return _found_deal(deal, filled, request)
    # Filled and already closed again: only the deals and history orders remember it.
    start = request.created_at - _HISTORY_MARGIN
    for deal in client.history_deals(remote, start, now + _HISTORY_MARGIN):
        if deal.get("clientId") == request.client_id:
            return _found_deal(deal, filled, request)
    for past in client.history_orders(remote, start, now + _HISTORY_MARGIN):
        if past.get("clientId") == request.client_id:
            state = past.get("state")
            return Found(
                filled
                if state in ("ORDER_STATE_FILLED", "ORDER_STATE_PARTIAL") or request.kind is TradeKind.PLACE
                else TradeStatus.REJECTED,
                f"found history order {past.get('id')} ({state}) carrying clientId {request.client_id}",
                BrokerAnswer(order_id=_text(past.get("id"))),
            )
    return Absent(f"no position, order, deal or history order carries clientId {request.client_id}")


def _find_close(client: MetaApiClient, remote: tuple[str, str | None], request: TradeRequest) -> Finding:
    """A close (or close-by: either of its two positions) executed if a position is gone with its
    closing deal in the history, or smaller than it was when the request was made."""
    open_now = {p.id: p for p in client.positions(remote, refresh=True)}
    snapshots = [(request.position_id or "", request.position_volume)]
    if request.close_by_position_id:
        snapshots.append((request.close_by_position_id, request.close_by_volume))
    answer = BrokerAnswer(position_id=request.position_id)
    for position_id, before in snapshots:
        current = open_now.get(position_id)
        if current is None:
            closing = _closing_deal(client, remote, position_id)
            if closing is None:
                return CannotTell(f"position {position_id} is not listed, but no deal has closed it yet")
            return Found(
                TradeStatus.EXECUTED, f"position {position_id} is closed (deal {closing.id})", answer
            )
        if before is not None and current.volume < before:
            return Found(
                TradeStatus.EXECUTED,
                f"position {position_id} went from {before} to {current.volume} lots",
                answer,
            )
    held = ", ".join(f"{p} with {open_now[p].volume} lots" for p, _ in snapshots)
    return Absent(f"still open: position {held}")


def _closing_deal(client: MetaApiClient, remote: tuple[str, str | None], position_id: str) -> Deal | None:
    deals = parsed_answer(list[Deal], client.history_deals_by_position(remote, position_id))
    return next((deal for deal in deals if deal.closes), None)


def _same(target: Decimal | None, current: Decimal | None) -> bool:
    """0 sent means "none": MetaTrader shows a removed level as absent."""
    return (target or None) == (current or None)


def _find_position_modified(
    client: MetaApiClient, remote: tuple[str, str | None], request: TradeRequest
) -> Finding:
    position_id = request.position_id or ""
    current = next((p for p in client.positions(remote, refresh=True) if p.id == position_id), None)
    if current is None:
        closing = _closing_deal(client, remote, position_id)
        if closing is None:
            return CannotTell(f"position {position_id} is not listed, but no deal has closed it yet")
        return Found(
            TradeStatus.CANCELED,
            f"position {position_id} closed (deal {closing.id}) before its new levels could be "
            "confirmed: nothing is left to change",
            BrokerAnswer(position_id=position_id),
        )
    trailing = request.trailing_stop_loss.to_metaapi() if request.trailing_stop_loss else None
    if (
        _same(request.stop_loss, current.stop_loss)
        and _same(request.take_profit, current.take_profit)
        and (trailing is None or current.trailing_stop_loss == trailing)
    ):
        return Found(
            TradeStatus.EXECUTED,
            f"position {position_id} carries the new stop loss and take profit",
            BrokerAnswer(position_id=position_id),
        )
    return Absent(
        f"position {position_id} still has stop loss {current.stop_loss}, take profit {current.take_profit}"
    )


def _find_order_modified(
    client: MetaApiClient, remote: tuple[str, str | None], request: TradeRequest
) -> Finding:
    order_id = request.order_id or ""
    current = next((o for o in client.orders(remote, refresh=True) if o.id == order_id), None)
    if current is None:
        ended = _ended_state(client, remote, order_id)
        if ended is None:
            return CannotTell(f"order {order_id} is not listed, and its history does not show it yet")
        return Found(
            TradeStatus.CANCELED,
            f"order {order_id} ended {ended} before its changes could be confirmed: "
            "nothing is left to change",
            BrokerAnswer(order_id=order_id),
        )
    pairs = (
        (request.open_price, current.open_price),
        (request.stop_limit_price, current.stop_limit_price),
        (request.stop_loss, current.stop_loss),
        (request.take_profit, current.take_profit),
    )
    expiration = request.expiration.type if request.expiration else None
    if all(_same(target, now) for target, now in pairs) and expiration in (None, current.expiration_type):
        return Found(
            TradeStatus.EXECUTED, f"order {order_id} carries the new levels", BrokerAnswer(order_id=order_id)
        )
    return Absent(f"order {order_id} still has its former levels")


def _find_canceled(client: MetaApiClient, remote: tuple[str, str | None], request: TradeRequest) -> Finding:
    order_id = request.order_id or ""
    if any(order.id == order_id for order in client.orders(remote, refresh=True)):
        return Absent(f"order {order_id} is still pending")
    state = _ended_state(client, remote, order_id)
    if state is None:
        return CannotTell(f"order {order_id} is no longer pending, and its history does not show it yet")
    answer = BrokerAnswer(order_id=order_id)
    if state == "ORDER_STATE_CANCELED":
        return Found(TradeStatus.EXECUTED, f"order {order_id} is canceled", answer)
    return Found(TradeStatus.REJECTED, f"order {order_id} ended {state} before it could be canceled", answer)


def _ended_state(client: MetaApiClient, remote: tuple[str, str | None], order_id: str) -> str | None:
    """How a pending order ended, from its history order; None while the history lacks it."""
    for order in client.history_orders_by_ticket(remote, order_id):
        if str(order.get("id")) == order_id:
            return str(order.get("state"))
    return None


def _found_deal(deal: dict[str, object], status: TradeStatus, request: TradeRequest) -> Found:
    price = deal.get("price")
    return Found(
        status,
        f"found deal {deal.get('id')} carrying clientId {request.client_id}",
        BrokerAnswer(order_id=_text(deal.get("orderId")), position_id=_text(deal.get("positionId"))),
        price=Decimal(str(price)) if price is not None else None,
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)

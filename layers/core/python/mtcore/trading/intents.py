"""The kinds of trade the API takes, each building its request from the broker's state now:
a market or pending order, a change or cancel of a pending order, a change, close or close-by
of a position, and closing every position (a parent with a child per position)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from mtcore.errors import NotFound
from mtcore.ids import new_ulid
from mtcore.metaapi.errors import MetaApiNotFound
from mtcore.metaapi.models import TradeAction
from mtcore.risk import refuse_entry
from mtcore.trading.acceptance import new_request
from mtcore.trading.bodies import CloseBy, NewOrder, OrderChanges, PositionChanges, given, zero_if_none
from mtcore.trading.checks import BUYS, MARKET
from mtcore.trading.models import TradeKind
from mtcore.trading.risk_gate import Entry, only_reduces

if TYPE_CHECKING:
    from mtcore.accounts import Account
    from mtcore.metaapi.models import Order, Position
    from mtcore.trading.acceptance import TradeDesk
    from mtcore.trading.models import TradeRequest


def _pending_order(desk: TradeDesk, account: Account, order_id: str) -> Order:
    try:
        return desk.client(account).order(account.remote, order_id)
    except MetaApiNotFound:
        raise NotFound(f"No pending order {order_id} on this account") from None


def _open_position(desk: TradeDesk, account: Account, position_id: str) -> Position:
    # The position as it is now: what a close or change that is not acknowledged is judged against.
    return desk.client(account).position(account.remote, position_id)


@dataclass(frozen=True)
class PlaceOrder:
    """A market or pending order. Only a market order expires: one not sent in time is never
    sent late."""

    order: NewOrder
    route: ClassVar[str] = "POST /accounts/{account_id}/orders"

    def body(self) -> dict[str, Any]:
        return self.order.model_dump(mode="json")

    def build(self, desk: TradeDesk, account: Account, trade_id: str) -> list[TradeRequest]:
        order = self.order
        pretrade = desk.pretrade(account)
        checked = pretrade.new_order(order)
        is_market = order.action_type in MARKET
        positions = cache(lambda: desk.positions.list_open(account.id))  # read once, if at all
        is_buy = order.action_type in BUYS
        if not (
            is_market
            and pretrade.nets_positions()
            and only_reduces(positions(), order.symbol, is_buy, checked.volume)
        ):
            has_stop_loss = checked.stop_loss is not None or order.trailing_stop_loss is not None
            profile, state = desk.risk.read(account.id)
            entry = Entry(order.symbol, checked.volume, has_stop_loss, checked.risk_percent)
            refuse_entry(
                profile,
                desk.gate.facts(
                    account,
                    desk.client(account),
                    profile,
                    state,
                    entry,
                    now=datetime.now(UTC),
                    open_positions=positions,
                ),
            )
        request = new_request(
            account,
            trade_id,
            TradeKind.OPEN if is_market else TradeKind.PLACE,
            order.action_type,
            symbol=order.symbol,
            volume=checked.volume,
            requested_volume=order.volume
            if order.volume is not None and checked.volume != order.volume
            else None,
            sizing=order.sizing,
            size_at="execution" if order.size_at == "execution" else None,
            risk_amount=checked.risk_amount,
            risk_percent=checked.risk_percent,
            open_price=order.open_price,
            stop_limit_price=order.stop_limit_price,
            stop_loss=checked.stop_loss,
            take_profit=checked.take_profit,
            expiration=order.expiration,
            trailing_stop_loss=order.trailing_stop_loss,
            filling_modes=list(order.filling_modes) if order.filling_modes else None,
            comment=order.comment,
            magic=order.magic_number,
            max_slippage_points=account.max_slippage_points if is_market else None,
            requested_price=checked.requested_price,
            pip_size=checked.pip_size,
        )
        if is_market:
            expiry = order.expires_in_seconds or account.order_expiry_seconds
            request.expires_at = request.created_at + timedelta(seconds=expiry)
        return [request]


# Changes carry only what was asked to change: the executor fills in the rest from the order or
# position as it is when sent, so a change queued behind another never undoes it.


def _levels(
    changes: OrderChanges | PositionChanges, stop_loss: Decimal | None, take_profit: Decimal | None
) -> dict[str, Decimal | None]:
    """The stop loss and take profit asked to change (0 removes one, as in MetaTrader)."""
    return {
        "stop_loss": zero_if_none(stop_loss) if given(changes, "stop_loss") else None,
        "take_profit": zero_if_none(take_profit) if given(changes, "take_profit") else None,
    }


@dataclass(frozen=True)
class ChangeOrder:
    order_id: str
    changes: OrderChanges
    route: ClassVar[str] = "PUT /accounts/{account_id}/orders/{order_id}"

    def body(self) -> dict[str, Any]:
        return {"orderId": self.order_id, **self.changes.model_dump(mode="json", exclude_unset=True)}

    def build(self, desk: TradeDesk, account: Account, trade_id: str) -> list[TradeRequest]:
        changes = self.changes
        pending = _pending_order(desk, account, self.order_id)
        targets = desk.pretrade(account).order_change(pending, changes)
        request = new_request(
            account,
            trade_id,
            TradeKind.MODIFY_ORDER,
            TradeAction.ORDER_MODIFY,
            symbol=pending.symbol,
            order_id=pending.id,
            open_price=targets.open_price if given(changes, "open_price") else None,
            stop_limit_price=targets.stop_limit_price if given(changes, "stop_limit_price") else None,
            expiration=changes.expiration if given(changes, "expiration") else None,
            **_levels(changes, targets.stop_loss, targets.take_profit),
        )
        return [request]


@dataclass(frozen=True)
class CancelOrder:
    order_id: str
    route: ClassVar[str] = "DELETE /accounts/{account_id}/orders/{order_id}"

    def body(self) -> dict[str, Any]:
        return {"orderId": self.order_id}

    def build(self, desk: TradeDesk, account: Account, trade_id: str) -> list[TradeRequest]:
        pending = _pending_order(desk, account, self.order_id)
        desk.pretrade(account).cancel(pending)
        kind, action = TradeKind.CANCEL, TradeAction.ORDER_CANCEL
        return [new_request(account, trade_id, kind, action, symbol=pending.symbol, order_id=pending.id)]


@dataclass(frozen=True)
class ChangePosition:
    position_id: str
    changes: PositionChanges
    route: ClassVar[str] = "PUT /accounts/{account_id}/positions/{position_id}"

    def body(self) -> dict[str, Any]:
        return {"positionId": self.position_id, **self.changes.model_dump(mode="json", exclude_unset=True)}

    def build(self, desk: TradeDesk, account: Account, trade_id: str) -> list[TradeRequest]:
        changes = self.changes
        position = _open_position(desk, account, self.position_id)
        targets = desk.pretrade(account).position_change(position, changes)
        request = new_request(
            account,
            trade_id,
            TradeKind.MODIFY_POSITION,
            TradeAction.POSITION_MODIFY,
            symbol=position.symbol,
            position_id=position.id,
            trailing_stop_loss=changes.trailing_stop_loss,
            **_levels(changes, targets.stop_loss, targets.take_profit),
        )
        return [request]


@dataclass(frozen=True)
class ClosePosition:
    """A position closed, or part of it (`volume`, rounded down to the volume step)."""

    position_id: str
    volume: Decimal | None = None
    route: ClassVar[str] = "DELETE /accounts/{account_id}/positions/{position_id}"

    def body(self) -> dict[str, Any]:
        return {"positionId": self.position_id, "volume": None if self.volume is None else str(self.volume)}

    def build(self, desk: TradeDesk, account: Account, trade_id: str) -> list[TradeRequest]:
        position = _open_position(desk, account, self.position_id)
        part = desk.pretrade(account).close(position, self.volume)
        request = new_request(
            account,
            trade_id,
            TradeKind.CLOSE,
            TradeAction.POSITION_CLOSE_ID if part is None else TradeAction.POSITION_PARTIAL,
            symbol=position.symbol,
            volume=part,
            requested_volume=self.volume if part is not None and part != self.volume else None,
            position_id=position.id,
            position_volume=position.volume,
        )
        return [request]


@dataclass(frozen=True)
class ClosePositionBy:
    """A position closed by an opposite one on the same symbol (hedging accounts only)."""

    position_id: str
    opposite: CloseBy
    route: ClassVar[str] = "POST /accounts/{account_id}/positions/{position_id}/close-by"

    def body(self) -> dict[str, Any]:
        return {"positionId": self.position_id, **self.opposite.model_dump(mode="json")}

    def build(self, desk: TradeDesk, account: Account, trade_id: str) -> list[TradeRequest]:
        pretrade = desk.pretrade(account)
        pretrade.hedging_required()
        position = _open_position(desk, account, self.position_id)
        opposite_id = self.opposite.close_by_position_id
        try:
            opposite = _open_position(desk, account, opposite_id)
        except MetaApiNotFound:
            raise NotFound(f"No open position {opposite_id} on this account") from None
        pretrade.close_by(position, opposite)
        request = new_request(
            account,
            trade_id,
            TradeKind.CLOSE_BY,
            TradeAction.POSITION_CLOSE_BY,
            symbol=position.symbol,
            position_id=position.id,
            position_volume=position.volume,
            close_by_position_id=opposite.id,
            close_by_volume=opposite.volume,
        )
        return [request]


def close_child(account: Account, position: Position) -> TradeRequest:
    """One position closed whole, as a child of a close-all or a flatten."""
    return new_request(
        account,
        new_ulid(),
        TradeKind.CLOSE,
        TradeAction.POSITION_CLOSE_ID,
        symbol=position.symbol,
        position_id=position.id,
        position_volume=position.volume,
    )


@dataclass(frozen=True)
class CloseAll:
    """Every open position (or every one of a symbol) closed: one child request per position,
    queued in order, then the parent, which settles from them."""

    symbol: str | None = None
    route: ClassVar[str] = "DELETE /accounts/{account_id}/positions"

    def body(self) -> dict[str, Any]:
        return {"symbol": self.symbol}

    def build(self, desk: TradeDesk, account: Account, trade_id: str) -> list[TradeRequest]:
        open_now = desk.client(account).positions(account.remote)
        children = [
            close_child(account, position)
            for position in open_now
            if self.symbol is None or position.symbol == self.symbol
        ]
        parent = new_request(
            account,
            trade_id,
            TradeKind.CLOSE_ALL,
            TradeAction.POSITION_CLOSE_ID,
            symbol=self.symbol,
            children=[child.id for child in children],
        )
        return [parent, *children]


@dataclass(frozen=True)
class Flatten:
    """Everything closed: a child request per pending order and per open position, queued in
    that order, then the parent, which settles from them (the kill switch's flatten). Orders are
    read and canceled first: one that fills meanwhile is then among the positions closed."""

    route: ClassVar[str] = "POST /accounts/{account_id}/risk/halt"

    def body(self) -> dict[str, Any]:
        return {"flatten": True}

    def build(self, desk: TradeDesk, account: Account, trade_id: str) -> list[TradeRequest]:
        client = desk.client(account)
        cancels = [
            new_request(
                account,
                new_ulid(),
                TradeKind.CANCEL,
                TradeAction.ORDER_CANCEL,
                symbol=order.symbol,
                order_id=order.id,
            )
            for order in client.orders(account.remote)
        ]
        closes = [close_child(account, position) for position in client.positions(account.remote)]
        children = [*cancels, *closes]
        parent = new_request(
            account,
            trade_id,
            TradeKind.FLATTEN,
            TradeAction.POSITION_CLOSE_ID,
            children=[child.id for child in children],
        )
        return [parent, *children]

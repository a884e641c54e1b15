"""A signal on one account, when the executor reaches it: the alert's symbol mapped to the
broker's, then the requests it asks for, built by the same intents the API uses, so an entry is
sized from the account's money and the price now and judged by its risk rules, and a close,
cancel or change is made against what the account holds now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from mtcore.errors import TradeRefused
from mtcore.ids import new_ulid
from mtcore.metaapi.models import TradeAction
from mtcore.signals.symbols import broker_symbol
from mtcore.trading import (
    ENTRY_COMMANDS,
    PENDING_COMMANDS,
    SLTP_COMMANDS,
    ChangePosition,
    Command,
    NewOrder,
    PlaceOrder,
    PositionChanges,
    Resolved,
    TradeKind,
    TradeStatus,
    Unresolved,
    close_child,
    new_request,
    outcome_of,
    pip_of,
    point_of,
)

if TYPE_CHECKING:
    from mtcore.accounts import Account
    from mtcore.metaapi.client import MetaApiClient
    from mtcore.metaapi.models import Order, Position
    from mtcore.trading import AlertCommand, SignalOrder, TradeDesk, TradeRequest

SHADOW = "SIGNAL_SHADOW"
IGNORED = "SIGNAL_IGNORED"
NOTHING_TO_DO = "SIGNAL_NOTHING_TO_DO"
# What the signal log reads as "ignored" rather than "rejected".
IGNORED_CODES = frozenset({IGNORED, NOTHING_TO_DO})


def _side(command: AlertCommand) -> str:
    return "long" if command.is_long else "short"


def _holds(position: Position, symbol: str, *, long: bool) -> bool:
    return position.symbol == symbol and (position.type == "POSITION_TYPE_BUY") == long


def _pending(order: Order, symbol: str, *, long: bool) -> bool:
    return order.symbol == symbol and order.type.startswith("ORDER_TYPE_BUY") == long


@dataclass
class SignalDispatch:
    account: Account
    desk: TradeDesk
    clock: Any = lambda: datetime.now(UTC)

    @property
    def remote(self) -> tuple[str, str | None]:
        return self.account.remote

    def resolve(self, request: TradeRequest, client: MetaApiClient) -> Resolved | Unresolved:
        order = _order_of(request)
        command = order.command
        desk = self.desk
        if command.command in ENTRY_COMMANDS and command.command not in PENDING_COMMANDS:
            expiry = request.created_at + timedelta(seconds=self.account.order_expiry_seconds)
            if self.clock() >= expiry:
                why = f"not sent: the signal was not reached within {self.account.order_expiry_seconds} s"
                return Unresolved(TradeStatus.EXPIRED, "SIGNAL_EXPIRED", why)
        try:
            symbol = request.symbol if order.entry_after is not None else None
            symbol = symbol or broker_symbol(
                command.symbol, desk.market.symbols(client, self.remote), order.symbol_map
            )
            if command.command in ENTRY_COMMANDS:
                return self._entry(request, order, symbol, client)
            if command.command in SLTP_COMMANDS:
                return self._new_levels(order, symbol, client)
            if command.command in (Command.CANCEL_LONG, Command.CANCEL_SHORT):
                return self._cancels(command, symbol, client)
            return self._closes(command, symbol, client)
        except TradeRefused as refusal:
            return Unresolved(
                TradeStatus.REJECTED, refusal.code, f"not sent: {refusal.code}: {refusal.message}"
            )

    def _entry(
        self, request: TradeRequest, order: SignalOrder, symbol: str, client: MetaApiClient
    ) -> Resolved | Unresolved:
        command, is_long = order.command, order.command.is_long
        positions = client.positions(self.remote, refresh=True)
        if not order.pyramiding and any(_holds(p, symbol, long=is_long) for p in positions):
            why = (
                f"ignored: the account already holds a {_side(command)} on {symbol} "
                "and the webhook does not pyramid"
            )
            return Unresolved(TradeStatus.CANCELED, IGNORED, why, {"symbol": symbol})
        opposite = [p for p in positions if _holds(p, symbol, long=not is_long)]
        if order.entry_after is not None and opposite:
            why = f"not sent: the opposite {symbol} positions could not all be closed first"
            return Unresolved(TradeStatus.REJECTED, "SIGNAL_OPPOSITE_OPEN", why, {"symbol": symbol})
        if order.close_opposite and opposite and order.entry_after is None:
            closes = [close_child(self.account, position) for position in opposite]
            waiting = order.model_copy(update={"entry_after": [child.id for child in closes]})
            note = f"closing {len(closes)} opposite {symbol} positions before the entry"
            return Resolved(closes, {"symbol": symbol, "signal": waiting}, note)
        account = self.account
        if command.max_spread_pips is not None:
            # The alert's spread= is this order's own limit, in pips.
            spec = self.desk.market.specification(client, self.remote, symbol)
            points = int(command.max_spread_pips * pip_of(spec) / point_of(spec))
            account = account.model_copy(update={"max_spread_points": points})
        built = PlaceOrder(_new_order(command, request.action, symbol)).build(self.desk, account, new_ulid())
        entry = built[0]
        shown = {
            "symbol": symbol,
            "volume": entry.volume,
            "stop_loss": entry.stop_loss,
            "take_profit": entry.take_profit,
        }
        if order.shadow:
            levels = "".join(
                f", {name} {value}"
                for name, value in (("sl", entry.stop_loss), ("tp", entry.take_profit))
                if value
            )
            why = f"shadow: would {command.command.value} {entry.volume} {symbol}{levels}; nothing sent"
            return Unresolved(TradeStatus.CANCELED, SHADOW, why, shown)
        return Resolved([entry], shown, f"{command.command.value} {entry.volume} {symbol} queued")

    def _closes(self, command: AlertCommand, symbol: str, client: MetaApiClient) -> Resolved | Unresolved:
        positions = client.positions(self.remote, refresh=True)
        chosen = [
            p
            for p in positions
            if p.symbol == symbol and (command.both_sides or _holds(p, symbol, long=command.is_long))
        ]
        if not chosen:
            sides = "" if command.both_sides else f"{_side(command)} "
            return Unresolved(
                TradeStatus.CANCELED,
                NOTHING_TO_DO,
                f"ignored: no open {sides}position on {symbol}",
                {"symbol": symbol},
            )
        children = [close_child(self.account, position) for position in chosen]
        return Resolved(children, {"symbol": symbol}, f"closing {len(children)} {symbol} positions")

    def _cancels(self, command: AlertCommand, symbol: str, client: MetaApiClient) -> Resolved | Unresolved:
        orders = [
            o for o in client.orders(self.remote, refresh=True) if _pending(o, symbol, long=command.is_long)
        ]
        if not orders:
            why = f"ignored: no pending {_side(command)} order on {symbol}"
            return Unresolved(TradeStatus.CANCELED, NOTHING_TO_DO, why, {"symbol": symbol})
        children = [
            new_request(
                self.account,
                new_ulid(),
                TradeKind.CANCEL,
                TradeAction.ORDER_CANCEL,
                symbol=o.symbol,
                order_id=o.id,
            )
            for o in orders
        ]
        return Resolved(children, {"symbol": symbol}, f"canceling {len(children)} {symbol} pending orders")

    def _new_levels(self, order: SignalOrder, symbol: str, client: MetaApiClient) -> Resolved | Unresolved:
        command = order.command
        positions = [
            p for p in client.positions(self.remote, refresh=True) if _holds(p, symbol, long=command.is_long)
        ]
        if not positions:
            why = f"ignored: no open {_side(command)} position on {symbol}"
            return Unresolved(TradeStatus.CANCELED, NOTHING_TO_DO, why, {"symbol": symbol})
        changes = PositionChanges.model_validate(_levels(command))
        children = [
            ChangePosition(position.id, changes).build(self.desk, self.account, new_ulid())[0]
            for position in positions
        ]
        return Resolved(
            children, {"symbol": symbol}, f"changing the levels of {len(children)} {symbol} positions"
        )

    def record(self, parent: TradeRequest, children: list[TradeRequest]) -> None:
        for child in children:
            self.desk.trades.put_new(child)
        for child in children:
            if not self.desk.queue.send(child):
                return  # the sweeper sends what is left, the signal after its children
        self.desk.queue.send_again(parent, self.clock())

    def entry_due(self, parent: TradeRequest) -> bool:
        order = parent.signal
        return order is not None and order.entry_after is not None and parent.children == order.entry_after

    def outcome(self, parent: TradeRequest, children: list[TradeRequest | None]) -> Unresolved:
        """An entry's outcome is its order's; closes, cancels and changes settle as a group."""
        order = _order_of(parent)
        written = [child for child in children if child is not None]
        if order.command.command in ENTRY_COMMANDS:
            if not written or written[-1].kind not in (TradeKind.OPEN, TradeKind.PLACE):
                why = "not sent: the order it became was never written (the executor stopped while making it)"
                return Unresolved(TradeStatus.REJECTED, None, why)
            entry = written[-1]
            before = f"closed {len(written) - 1} opposite positions; " if len(written) > 1 else ""
            shown = {"volume": entry.volume, "stop_loss": entry.stop_loss, "take_profit": entry.take_profit}
            return Unresolved(
                entry.status, entry.code, f"{before}{entry.reason or entry.status.value}", shown
            )
        if order.command.command in SLTP_COMMANDS or order.command.command in (
            Command.CANCEL_LONG,
            Command.CANCEL_SHORT,
        ):
            done = {TradeStatus.EXECUTED, TradeStatus.PLACED}
            count = sum(child.status in done for child in written)
            status = (
                TradeStatus.EXECUTED
                if count == len(children)
                else TradeStatus.PARTIAL
                if count
                else TradeStatus.REJECTED
            )
            refused = next(
                (child.reason for child in written if child.status not in done and child.reason), None
            )
            what = "changed" if order.command.command in SLTP_COMMANDS else "canceled"
            reason = f"{what} {count} of {len(children)}" + (f": {refused}" if refused else "")
            return Unresolved(status, None, reason)
        status, reason = outcome_of(children) or (TradeStatus.REJECTED, "its requests were never written")
        return Unresolved(status, None, reason)


def _order_of(request: TradeRequest) -> SignalOrder:
    if request.signal is None:
        raise ValueError(f"trade request {request.id} is not a signal")
    return request.signal


def _levels(command: AlertCommand) -> dict[str, Any]:
    """The alert's stop loss and take profit, in their units (a price unless it said otherwise)."""
    levels: dict[str, Any] = {}
    if command.stop_loss is not None:
        levels |= {
            "stop_loss": command.stop_loss,
            "stop_loss_units": command.stop_loss_units or "ABSOLUTE_PRICE",
        }
    if command.take_profit is not None:
        levels |= {
            "take_profit": command.take_profit,
            "take_profit_units": command.take_profit_units or "ABSOLUTE_PRICE",
        }
    return levels


def _new_order(command: AlertCommand, action: TradeAction, symbol: str) -> NewOrder:
    fields: dict[str, Any] = {
        "symbol": symbol,
        "action_type": action,
        "sizing": command.sizing,
        "open_price": command.open_price,
        "comment": command.comment,
        **_levels(command),
    }
    try:
        return NewOrder.model_validate(fields)
    except ValidationError as error:
        problem = "; ".join(str(item["msg"]) for item in error.errors(include_url=False))
        raise TradeRefused("SIGNAL_INVALID", "body", f"the alert makes no valid order: {problem}") from None

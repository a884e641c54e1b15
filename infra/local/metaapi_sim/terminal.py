"""One account's trading terminal: balance, positions, pending orders and history.

It applies trades that are already validated (see `trading`) and computes the money figures.
Not thread-safe by itself; the simulator calls it under its lock.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from infra.local.metaapi_sim.market import Market, Quote
from infra.local.metaapi_sim.models import Deal, Order, Position, stop_distance
from infra.local.metaapi_sim.symbols import Catalogue, SymbolSpec
from infra.local.metaapi_sim.trailing import Trailing
from infra.local.metaapi_sim.wire import money

HEDGING = "ACCOUNT_MARGIN_MODE_RETAIL_HEDGING"
MARGIN_MODES = frozenset({HEDGING, "ACCOUNT_MARGIN_MODE_RETAIL_NETTING", "ACCOUNT_MARGIN_MODE_EXCHANGE"})


class Tickets:
    """Ticket numbers come from one sequence per trade server, so they never repeat across accounts."""

    def __init__(self) -> None:
        self._orders = itertools.count(40_000_001)
        self._deals = itertools.count(70_000_001)

    def order(self) -> str:
        return str(next(self._orders))

    def deal(self) -> str:
        return str(next(self._deals))


@dataclass(frozen=True)
class Stamp:
    """Who asked for a trade; it lands on the orders, deals and positions the trade makes."""

    magic: int
    comment: str | None
    client_id: str | None
    origin: str  # EXPERT (through the API), CLIENT (by hand), SL or TP (the broker, at a stop)


@dataclass(frozen=True)
class Fill:
    """A validated market order."""

    spec: SymbolSpec
    is_buy: bool
    volume: Decimal
    stop_loss: Decimal | None
    take_profit: Decimal | None
    stamp: Stamp
    filling_mode: str
    trailing: Trailing | None = None


def _side(is_buy: bool) -> str:
    return "BUY" if is_buy else "SELL"


class Terminal:
    def __init__(
        self,
        *,
        platform: str,
        currency: str,
        balance: Decimal,
        leverage: int,
        margin_mode: str,
        market: Market,
        symbols: Catalogue,
        tickets: Tickets,
        clock: Callable[[], float],
    ) -> None:
        self.platform = platform
        self.currency = currency
        self.balance = money(balance)
        self.leverage = leverage
        self.margin_mode = margin_mode
        self.market = market
        self.symbols = symbols
        # The names this broker lists (GET /symbols); None lists the whole catalogue.
        self.symbol_names: list[str] | None = None
        self.tickets = tickets
        self.clock = clock
        self.positions: dict[str, Position] = {}
        self.orders: dict[str, Order] = {}
        self.history_orders: list[Order] = []
        self.deals = [
            Deal(
                id=tickets.deal(),
                type="DEAL_TYPE_BALANCE",
                entry_type="DEAL_ENTRY_IN",
                time=clock(),
                profit=self.balance,
                platform=platform,
                comment="Initial deposit",
            )
        ]

    def set_balance(self, balance: Decimal) -> None:
        """A deposit or a withdrawal: the difference is booked as a balance deal."""
        change = money(balance) - self.balance
        self.balance = money(balance)
        self.deals.append(
            Deal(
                id=self.tickets.deal(),
                type="DEAL_TYPE_BALANCE",
                entry_type="DEAL_ENTRY_IN",
                time=self.clock(),
                profit=change,
                platform=self.platform,
                comment="Deposit" if change >= 0 else "Withdrawal",
            )
        )

    @property
    def hedging(self) -> bool:
        return self.margin_mode == HEDGING

    def quote(self, symbol: str) -> Quote:
        return self.market.quote(symbol)

    def close_price(self, position: Position) -> Decimal:
        return self._market_price(position.symbol, is_buy=not position.is_buy)

    def _market_price(self, symbol: str, *, is_buy: bool) -> Decimal:
        """Buys fill at the ask, sells at the bid."""
        quote = self.quote(symbol)
        return quote.ask if is_buy else quote.bid

    def frozen_stop(self, position: Position) -> str | None:
        """Names the position's stop that sits within the symbol's freeze level of the closing price,
        if one does: the broker then refuses to change the position's stops."""
        spec, price = self.symbols[position.symbol], self.close_price(position)
        for name, level, is_stop_loss in (
            ("stop loss", position.stop_loss, True),
            ("take profit", position.take_profit, False),
        ):
            if level is not None and spec.frozen(
                stop_distance(is_buy=position.is_buy, reference=price, level=level, stop_loss=is_stop_loss)
            ):
                return f"{name} {level}"
        return None

    def rate(self, spec: SymbolSpec, price: Decimal | None = None) -> Decimal:
        """What one unit of the symbol's profit currency is worth in the account's. A symbol that
        quotes the account's currency against its profit currency (USDJPY on a USD account)
        converts at its own `price`, the close or open price at hand; any other at the mid of
        the pair that quotes both currencies."""
        if price is not None and spec.base_currency == self.currency != spec.profit_currency:
            return 1 / price
        return self.market.rate(spec.profit_currency, self.currency)

    def profit(
        self, spec: SymbolSpec, *, is_buy: bool, open_price: Decimal, close_price: Decimal, volume: Decimal
    ) -> Decimal:
        move = spec.profit(is_buy=is_buy, open_price=open_price, close_price=close_price, volume=volume)
        return money(move * self.rate(spec, close_price))

    def symbol_margin(self, spec: SymbolSpec, volume: Decimal, price: Decimal) -> Decimal:
        return money(spec.margin(volume, price, self.leverage) * self.rate(spec, price))

    def tick_value(self, spec: SymbolSpec) -> Decimal:
        """One tick of one lot in the account's currency (unrounded: a price quote carries it)."""
        return spec.tick_amount() * self.rate(spec)

    def unrealized(self, position: Position) -> Decimal:
        return self.profit(
            self.symbols[position.symbol],
            is_buy=position.is_buy,
            open_price=position.open_price,
            close_price=self.close_price(position),
            volume=position.volume,
        )

    def position_margin(self, position: Position) -> Decimal:
        return self.symbol_margin(self.symbols[position.symbol], position.volume, position.open_price)

    def equity(self) -> Decimal:
        return self.balance + sum((self.unrealized(p) for p in self.positions.values()), Decimal(0))

    def margin(self) -> Decimal:
        return sum((self.position_margin(p) for p in self.positions.values()), Decimal(0))

    def free_margin(self) -> Decimal:
        return self.equity() - self.margin()

    def margin_increase(self, spec: SymbolSpec, *, is_buy: bool, volume: Decimal, price: Decimal) -> Decimal:
        """How much more margin the account holds after a market fill (negative when it shrinks)."""
        existing = self.netting_position(spec.symbol)
        if existing is None or existing.is_buy == is_buy:
            return self.symbol_margin(spec, volume, price)
        if volume > existing.volume:
            return self.symbol_margin(spec, volume - existing.volume, price) - self.position_margin(existing)
        return -self.symbol_margin(spec, volume, existing.open_price)

    def information(self) -> dict[str, Any]:
        equity, margin = self.equity(), self.margin()
        info: dict[str, Any] = {
            "balance": self.balance,
            "equity": equity,
            "margin": margin,
            "freeMargin": equity - margin,
            "leverage": self.leverage,
            "marginMode": self.margin_mode,
            "credit": 0,
        }
        if margin:
            info["marginLevel"] = money(equity / margin * 100)
        return info

    def position_json(self, position: Position) -> dict[str, Any]:
        price = self.close_price(position)
        return position.to_json(
            current_price=price,
            tick_value=self.tick_value(self.symbols[position.symbol]),
            unrealized=self.unrealized(position),
        )

    def order_json(self, order: Order) -> dict[str, Any]:
        quote = self.quote(order.symbol)
        return order.to_json(current_price=quote.ask if order.is_buy else quote.bid)

    def netting_position(self, symbol: str) -> Position | None:
        if self.hedging:
            return None
        return next((p for p in self.positions.values() if p.symbol == symbol), None)

    def fill(self, fill: Fill) -> tuple[str, str]:
        """Executes a market order; answers the order id and the id of the position it touched."""
        price = self._market_price(fill.spec.symbol, is_buy=fill.is_buy)
        order_id = self.tickets.order()
        position, entry, profit = self._enter(fill, order_id, price)
        self._record_fill(
            order_id,
            f"ORDER_TYPE_{_side(fill.is_buy)}",
            position,
            fill.volume,
            price,
            fill.stamp,
            fill.filling_mode,
        )
        self._deal(
            order_id,
            position.id,
            fill.spec.symbol,
            fill.is_buy,
            entry,
            fill.volume,
            price,
            profit,
            fill.stamp,
        )
        return order_id, position.id

    def fill_pending(self, order: Order) -> None:
        """A limit or stop order the market reached fills like a market order, at the current quote: a
        limit at its price or better, a stop at the market (slippage on a gap included). Without the
        margin for it, MT5 rejects the order instead."""
        spec = self.symbols[order.symbol]
        fill = Fill(
            spec=spec,
            is_buy=order.is_buy,
            volume=order.current_volume,
            stop_loss=order.stop_loss,
            take_profit=order.take_profit,
            stamp=Stamp(order.magic, order.comment, order.client_id, order.origin),
            filling_mode=order.filling_mode,
            trailing=order.trailing,
        )
        price = self._market_price(spec.symbol, is_buy=order.is_buy)
        needed = self.margin_increase(spec, is_buy=order.is_buy, volume=order.current_volume, price=price)
        if needed > 0 and needed > self.free_margin():
            self._retire(order, "ORDER_STATE_REJECTED", self.clock())
            return
        position, entry, profit = self._enter(fill, order.id, price)
        order.position_id = position.id
        self._retire(order, "ORDER_STATE_FILLED", self.clock())
        self._deal(
            order.id, position.id, spec.symbol, order.is_buy, entry, fill.volume, price, profit, fill.stamp
        )

    def activate(self, order: Order) -> None:
        """A stop-limit whose stop price was reached. As MT5 does, it goes to history as filled and a
        limit order under a new ticket takes its place at the stop-limit price, carrying the rest."""
        if order.stop_limit_price is None:
            raise ValueError(f"{order.type} {order.id} is not a stop-limit order")
        limit = dataclasses.replace(
            order,
            id=self.tickets.order(),
            type=order.type.replace("_STOP_LIMIT", "_LIMIT"),
            time=self.clock(),
            open_price=order.stop_limit_price,
            stop_limit_price=None,
        )
        self._retire(order, "ORDER_STATE_FILLED", self.clock())
        self.orders[limit.id] = limit

    def _enter(self, fill: Fill, order_id: str, price: Decimal) -> tuple[Position, str, Decimal]:
        """Opens a position for a fill, or nets it into the symbol's position on a netting account;
        answers the position, the deal's entry type and the profit booked."""
        now = self.clock()
        existing = self.netting_position(fill.spec.symbol)
        if existing is None:
            position = Position(
                id=order_id,
                is_buy=fill.is_buy,
                symbol=fill.spec.symbol,
                magic=fill.stamp.magic,
                time=now,
                update_time=now,
                open_price=price,
                volume=fill.volume,
                stop_loss=fill.stop_loss,
                take_profit=fill.take_profit,
                comment=fill.stamp.comment,
                client_id=fill.stamp.client_id,
                origin=fill.stamp.origin,
                trailing=fill.trailing,
            )
            self.positions[position.id] = position
            return position, "DEAL_ENTRY_IN", Decimal(0)
        entry, profit = self._net(existing, fill, price)
        existing.update_time = now
        if fill.stop_loss is not None or fill.take_profit is not None:
            existing.stop_loss, existing.take_profit = fill.stop_loss, fill.take_profit
        if fill.trailing is not None:
            existing.trailing = fill.trailing
        return existing, entry, profit

    def _net(self, position: Position, fill: Fill, price: Decimal) -> tuple[str, Decimal]:
        """A netting fill on a symbol that already has a position: add to it, reduce it or reverse it."""
        if position.is_buy == fill.is_buy:
            total = position.volume + fill.volume
            position.open_price = (position.open_price * position.volume + price * fill.volume) / total
            position.volume = total
            return "DEAL_ENTRY_IN", Decimal(0)
        closed = min(position.volume, fill.volume)
        profit = self.profit(
            fill.spec,
            is_buy=position.is_buy,
            open_price=position.open_price,
            close_price=price,
            volume=closed,
        )
        self.balance += profit
        if fill.volume > position.volume:
            position.is_buy, position.volume, position.open_price = fill.is_buy, fill.volume - closed, price
            position.realized_profit = Decimal(0)
            # The old direction's stops would sit on the wrong side of the reversed position.
            position.stop_loss = position.take_profit = position.trailing = None
            return "DEAL_ENTRY_INOUT", profit
        self._reduce(position, closed, profit)
        return "DEAL_ENTRY_OUT", profit

    def close(self, position: Position, volume: Decimal, stamp: Stamp) -> str:
        """Closes `volume` of a position at market; answers the closing order's id."""
        spec = self.symbols[position.symbol]
        price = self.close_price(position)
        profit = self.profit(
            spec, is_buy=position.is_buy, open_price=position.open_price, close_price=price, volume=volume
        )
        order_id = self.tickets.order()
        self.balance += profit
        self._record_fill(
            order_id,
            f"ORDER_TYPE_{_side(not position.is_buy)}",
            position,
            volume,
            price,
            stamp,
            "ORDER_FILLING_FOK",
        )
        self._deal(
            order_id,
            position.id,
            spec.symbol,
            not position.is_buy,
            "DEAL_ENTRY_OUT",
            volume,
            price,
            profit,
            stamp,
        )
        self._reduce(position, volume, profit)
        return order_id

    def close_by(self, position: Position, opposite: Position, stamp: Stamp) -> str:
        """MT5's close-by: both legs close at the opposite position's open price, so no spread is paid."""
        spec = self.symbols[position.symbol]
        volume = min(position.volume, opposite.volume)
        price = opposite.open_price
        profit = self.profit(
            spec, is_buy=position.is_buy, open_price=position.open_price, close_price=price, volume=volume
        )
        order_id = self.tickets.order()
        self.balance += profit
        self._record_fill(
            order_id, "ORDER_TYPE_CLOSE_BY", position, volume, price, stamp, "ORDER_FILLING_FOK", opposite.id
        )
        for leg, leg_profit in ((position, profit), (opposite, Decimal(0))):
            self._deal(
                order_id,
                leg.id,
                spec.symbol,
                not leg.is_buy,
                "DEAL_ENTRY_OUT_BY",
                volume,
                price,
                leg_profit,
                stamp,
            )
            self._reduce(leg, volume, leg_profit)
        return order_id

    def place(self, order: Order) -> None:
        self.orders[order.id] = order

    def cancel(self, order: Order) -> None:
        self._retire(order, "ORDER_STATE_CANCELED", self.clock())

    def expire(self, order: Order, when: float) -> None:
        self._retire(order, "ORDER_STATE_EXPIRED", when)

    def _retire(self, order: Order, state: str, done_time: float) -> None:
        """Moves a pending order to history; a filled one has no volume left to fill."""
        del self.orders[order.id]
        order.state, order.done_time = state, done_time
        if state == "ORDER_STATE_FILLED":
            order.current_volume = Decimal(0)
        self.history_orders.append(order)

    def _reduce(self, position: Position, volume: Decimal, profit: Decimal) -> None:
        if volume >= position.volume:
            del self.positions[position.id]
            return
        position.volume -= volume
        position.realized_profit += profit
        position.update_time = self.clock()

    def _record_fill(
        self,
        order_id: str,
        order_type: str,
        position: Position,
        volume: Decimal,
        price: Decimal,
        stamp: Stamp,
        filling_mode: str,
        close_by_position_id: str | None = None,
    ) -> None:
        now = self.clock()
        self.history_orders.append(
            Order(
                id=order_id,
                type=order_type,
                state="ORDER_STATE_FILLED",
                symbol=position.symbol,
                magic=stamp.magic,
                time=now,
                open_price=price,
                volume=volume,
                current_volume=Decimal(0),
                platform=self.platform,
                origin=stamp.origin,
                filling_mode=filling_mode,
                comment=stamp.comment,
                client_id=stamp.client_id,
                position_id=position.id,
                close_by_position_id=close_by_position_id,
                done_time=now,
            )
        )

    def _deal(
        self,
        order_id: str,
        position_id: str,
        symbol: str,
        is_buy: bool,
        entry: str,
        volume: Decimal,
        price: Decimal,
        profit: Decimal,
        stamp: Stamp,
    ) -> None:
        self.deals.append(
            Deal(
                id=self.tickets.deal(),
                type=f"DEAL_TYPE_{_side(is_buy)}",
                entry_type=entry,
                time=self.clock(),
                profit=profit,
                platform=self.platform,
                symbol=symbol,
                magic=stamp.magic,
                volume=volume,
                price=price,
                position_id=position_id,
                order_id=order_id,
                comment=stamp.comment,
                client_id=stamp.client_id,
                origin=stamp.origin,
            )
        )

"""What the broker does on its own as time passes and prices move: pending orders expire or trigger,
trailing stops follow the price, stop losses and take profits close positions.

`catch_up` brings one terminal up to date at the current quotes and clock. The simulator calls it,
under its lock, whenever a request touches an account and after a price is pinned. Only the quote of
that moment is seen: a price that crossed a level and came back between two calls triggers nothing,
as if no tick had arrived in between.
"""

from __future__ import annotations

from decimal import Decimal

from infra.local.metaapi_sim.models import (
    STOP_LIMIT_ORDER_TYPES,
    Order,
    Position,
    price_distance,
    stop_distance,
)
from infra.local.metaapi_sim.terminal import Stamp, Terminal


def catch_up(terminal: Terminal) -> None:
    # Expiry first: an order past its time can no longer fill, whatever the price did since.
    _expire(terminal)
    # The limit order a stop-limit places sits beyond the price that placed it (below for a buy,
    # above for a sell), so it cannot be reached on the same quote.
    for order in _reached(terminal):
        if order.type in STOP_LIMIT_ORDER_TYPES:
            terminal.activate(order)
        else:
            terminal.fill_pending(order)
    for position in list(terminal.positions.values()):
        if _ticking(terminal, position.symbol):
            _trail(terminal, position)
            _stop_out(terminal, position)


def _expire(terminal: Terminal) -> None:
    now = terminal.clock()
    for order in list(terminal.orders.values()):
        expires_at = order.expires_at
        if expires_at is not None and expires_at <= now:
            terminal.expire(order, expires_at)


def _ticking(terminal: Terminal, symbol: str) -> bool:
    """Outside the symbol's session no ticks arrive, so nothing triggers on its prices."""
    return terminal.symbols[symbol].is_open(terminal.clock())


def _reached(terminal: Terminal) -> list[Order]:
    """The pending orders whose price the market has reached (for a stop-limit: its stop price)."""
    return [
        order
        for order in terminal.orders.values()
        if _ticking(terminal, order.symbol)
        and price_distance(order.type, order.open_price, terminal.quote(order.symbol)) <= 0
    ]


def _tighter(position: Position, stop_loss: Decimal) -> bool:
    if position.stop_loss is None:
        return True
    return stop_loss > position.stop_loss if position.is_buy else stop_loss < position.stop_loss


def _trail(terminal: Terminal, position: Position) -> None:
    """Moves the stop loss where the trailing stop asks, and only ever tighter."""
    if position.trailing is None:
        return
    spec, price = terminal.symbols[position.symbol], terminal.close_price(position)
    wanted = position.trailing.stop_loss(
        spec, is_buy=position.is_buy, open_price=position.open_price, close_price=price
    )
    if wanted is None or not _tighter(position, wanted):
        return
    # The broker refuses a stop loss inside the stops level, and any change while a stop is frozen.
    distance = stop_distance(is_buy=position.is_buy, reference=price, level=wanted, stop_loss=True)
    if not spec.far_enough(distance) or terminal.frozen_stop(position) is not None:
        return
    position.stop_loss, position.update_time = wanted, terminal.clock()


def _stop_out(terminal: Terminal, position: Position) -> None:
    """A buy closes at the bid once the bid reaches its stop loss or take profit, a sell at the ask."""
    price = terminal.close_price(position)
    for reason, level, is_stop_loss in (
        ("SL", position.stop_loss, True),
        ("TP", position.take_profit, False),
    ):
        if level is None:
            continue
        if stop_distance(is_buy=position.is_buy, reference=price, level=level, stop_loss=is_stop_loss) <= 0:
            # The broker closes it: order and deal say SL or TP and keep the position's clientId.
            stamp = Stamp(position.magic, position.comment, position.client_id, reason)
            terminal.close(position, position.volume, stamp)
            return

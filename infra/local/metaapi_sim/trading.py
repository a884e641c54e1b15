"""`POST .../trade`: validates a MetatraderTrade body and applies it to a terminal.

Every outcome, success or refusal, is a MetatraderTradeResponse; nothing here raises to the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from infra.local.metaapi_sim.market import Quote
from infra.local.metaapi_sim.models import (
    BUY_ORDER_TYPES,
    Order,
    Position,
    price_distance,
    stop_distance,
)
from infra.local.metaapi_sim.symbols import FILLING_MODES, Catalogue, SymbolSpec
from infra.local.metaapi_sim.terminal import Fill, Stamp, Terminal
from infra.local.metaapi_sim.trailing import InvalidTrailing, Trailing, parse_trailing
from infra.local.metaapi_sim.wire import broker_day_end, parse_iso

RETCODES = {
    "TRADE_RETCODE_DISCONNECTED_DURING_TRADE": -11,
    "ERR_TRADE_TIMED_OUT": -7,
    "ERR_TRADE_POSITION_NOT_FOUND": 4753,
    "ERR_TRADE_ORDER_NOT_FOUND": 4754,
    "TRADE_RETCODE_REQUOTE": 10004,
    "TRADE_RETCODE_PLACED": 10008,
    "TRADE_RETCODE_DONE": 10009,
    "TRADE_RETCODE_INVALID": 10013,
    "TRADE_RETCODE_INVALID_VOLUME": 10014,
    "TRADE_RETCODE_INVALID_PRICE": 10015,
    "TRADE_RETCODE_INVALID_STOPS": 10016,
    "TRADE_RETCODE_TRADE_DISABLED": 10017,
    "TRADE_RETCODE_MARKET_CLOSED": 10018,
    "TRADE_RETCODE_NO_MONEY": 10019,
    "TRADE_RETCODE_INVALID_EXPIRATION": 10022,
    "TRADE_RETCODE_NO_CHANGES": 10025,
    "TRADE_RETCODE_FROZEN": 10029,
    "TRADE_RETCODE_INVALID_FILL": 10030,
    "TRADE_RETCODE_CONNECTION": 10031,
    "TRADE_RETCODE_INVALID_ORDER": 10035,
    "TRADE_RETCODE_LONG_ONLY": 10042,
    "TRADE_RETCODE_SHORT_ONLY": 10043,
    "TRADE_RETCODE_CLOSE_ONLY": 10044,
}
# Codes after which the terminal changed: NO_CHANGES is a success that changes nothing.
EXECUTED_CODES = frozenset({"TRADE_RETCODE_PLACED", "TRADE_RETCODE_DONE"})
MAX_COMMENT_AND_CLIENT_ID = 26
EXPIRATION_TYPES = frozenset(
    {"ORDER_TIME_GTC", "ORDER_TIME_DAY", "ORDER_TIME_SPECIFIED", "ORDER_TIME_SPECIFIED_DAY"}
)
UNIT_FIELDS = ("stopLossUnits", "takeProfitUnits", "openPriceUnits", "stopLimitPriceUnits")


@dataclass(frozen=True)
class TradeResult:
    code: str
    message: str
    order_id: str | None = None
    position_id: str | None = None

    @property
    def executed(self) -> bool:
        return self.code in EXECUTED_CODES

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "numericCode": RETCODES[self.code],
            "stringCode": self.code,
            "message": self.message,
        }
        if self.order_id is not None:
            body["orderId"] = self.order_id
        if self.position_id is not None:
            body["positionId"] = self.position_id
        return body


class TradeRejected(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.result = TradeResult(code, message)


def _invalid(message: str) -> TradeRejected:
    return TradeRejected("TRADE_RETCODE_INVALID", message)


def _bad_expiration_time(kind: str) -> TradeRejected:
    return TradeRejected(
        "TRADE_RETCODE_INVALID_EXPIRATION", f"expiration.time must be an ISO time before {kind} expires"
    )


class TradeRequest:
    """Typed access to a MetatraderTrade body; a malformed field rejects the trade as INVALID."""

    def __init__(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise _invalid("The trade request must be a JSON object")
        self.body: dict[str, Any] = body
        self.action = self.required_text("actionType")
        self.comment = self.text("comment")
        self.client_id = self.text("clientId")
        if len(self.comment or "") + len(self.client_id or "") > MAX_COMMENT_AND_CLIENT_ID:
            raise _invalid(
                f"clientId and comment together must not exceed {MAX_COMMENT_AND_CLIENT_ID} characters"
            )
        self.magic = self._magic()
        for name in UNIT_FIELDS:
            if body.get(name, "ABSOLUTE_PRICE") != "ABSOLUTE_PRICE":
                raise _invalid(f"{name}: only ABSOLUTE_PRICE is supported by the simulator")

    def text(self, name: str) -> str | None:
        return None if self.body.get(name) is None else self.required_text(name)

    def required_text(self, name: str) -> str:
        value = self.body.get(name)
        if not isinstance(value, str) or not value:
            raise _invalid(f"{name} must be a non-empty string")
        return value

    def ident(self, name: str) -> str:
        """Ticket ids are strings of digits; some clients send them as numbers."""
        value = self.body.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str) or not value:
            raise _invalid(f"{name} is required")
        return value

    def number(self, name: str) -> Decimal | None:
        value = self.body.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise _invalid(f"{name} must be a number")
        return Decimal(value)

    def price(self, name: str) -> Decimal | None:
        """0 means "no price", as in MetaTrader."""
        value = self.number(name)
        if value is not None and value < 0:
            raise _invalid(f"{name} must not be negative")
        return value or None

    def required_price(self, name: str) -> Decimal:
        value = self.price(name)
        if value is None:
            raise _invalid(f"{name} must be a positive number")
        return value

    def volume(self) -> Decimal:
        value = self.number("volume")
        if value is None:
            raise _invalid("volume is required")
        return value

    def symbol(self, symbols: Catalogue) -> SymbolSpec:
        name = self.required_text("symbol")
        spec = symbols.get(name)
        if spec is None:
            raise _invalid(f"Unknown symbol {name}")
        return spec

    def stamp(self, default_magic: int) -> Stamp:
        magic = default_magic if self.magic is None else self.magic
        return Stamp(magic, self.comment, self.client_id, "EXPERT")

    def filling_mode(self) -> str:
        requested = self.body.get("fillingModes")
        if requested is None:
            return "ORDER_FILLING_FOK"
        if not isinstance(requested, list) or not all(isinstance(mode, str) for mode in requested):
            raise _invalid("fillingModes must be an array of strings")
        for mode in requested:
            if mode.replace("ORDER_", "SYMBOL_", 1) in FILLING_MODES:
                return str(mode)
        raise TradeRejected("TRADE_RETCODE_INVALID_FILL", f"None of {requested} is allowed for this symbol")

    def trailing(self, *, is_buy: bool) -> Trailing | None:
        value = self.body.get("trailingStopLoss")
        if value is None:
            return None
        try:
            return parse_trailing(value, is_buy=is_buy)
        except InvalidTrailing as error:
            raise _invalid(str(error)) from error

    def expiration(self, now: float) -> tuple[str, float | None]:
        expiration = self.body.get("expiration")
        if expiration is None:
            return "ORDER_TIME_GTC", None
        kind = expiration.get("type") if isinstance(expiration, dict) else None
        if kind not in EXPIRATION_TYPES:
            raise TradeRejected(
                "TRADE_RETCODE_INVALID_EXPIRATION",
                f"expiration.type must be one of {sorted(EXPIRATION_TYPES)}",
            )
        if kind not in ("ORDER_TIME_SPECIFIED", "ORDER_TIME_SPECIFIED_DAY"):
            return str(kind), None
        when = expiration.get("time")
        try:
            moment = parse_iso(when) if isinstance(when, str) else None
        except ValueError:
            moment = None  # reported below with the missing time
        if moment is None:
            raise _bad_expiration_time(str(kind))
        # A SPECIFIED_DAY order lives to the end of that broker day, so a time earlier today still does.
        if (broker_day_end(moment) if kind == "ORDER_TIME_SPECIFIED_DAY" else moment) <= now:
            raise _bad_expiration_time(str(kind))
        return str(kind), moment

    def _magic(self) -> int | None:
        value = self.body.get("magic")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _invalid("magic must be a non-negative integer")
        return value


# What an opening action needs in the symbol's allowedOrderTypes.
_SYMBOL_ORDER_TYPES = {
    "ORDER_TYPE_BUY": "SYMBOL_ORDER_MARKET",
    "ORDER_TYPE_SELL": "SYMBOL_ORDER_MARKET",
    "ORDER_TYPE_BUY_LIMIT": "SYMBOL_ORDER_LIMIT",
    "ORDER_TYPE_SELL_LIMIT": "SYMBOL_ORDER_LIMIT",
    "ORDER_TYPE_BUY_STOP": "SYMBOL_ORDER_STOP",
    "ORDER_TYPE_SELL_STOP": "SYMBOL_ORDER_STOP",
    "ORDER_TYPE_BUY_STOP_LIMIT": "SYMBOL_ORDER_STOP_LIMIT",
    "ORDER_TYPE_SELL_STOP_LIMIT": "SYMBOL_ORDER_STOP_LIMIT",
}


def _check_trade_mode(spec: SymbolSpec, opens: str | None) -> None:
    """`opens` is the order type of a request that opens exposure. Closes, modifies and cancels pass
    None: only a disabled symbol refuses them."""
    mode, symbol = spec.trade_mode, spec.symbol
    if mode == "SYMBOL_TRADE_MODE_DISABLED":
        raise TradeRejected("TRADE_RETCODE_TRADE_DISABLED", f"Trading is disabled for {symbol}")
    if opens is None:
        return
    is_buy = opens in BUY_ORDER_TYPES
    if mode == "SYMBOL_TRADE_MODE_CLOSEONLY":
        raise TradeRejected("TRADE_RETCODE_CLOSE_ONLY", f"Only closing positions is allowed for {symbol}")
    if mode == "SYMBOL_TRADE_MODE_LONGONLY" and not is_buy:
        raise TradeRejected("TRADE_RETCODE_LONG_ONLY", f"Only buy orders are allowed for {symbol}")
    if mode == "SYMBOL_TRADE_MODE_SHORTONLY" and is_buy:
        raise TradeRejected("TRADE_RETCODE_SHORT_ONLY", f"Only sell orders are allowed for {symbol}")


def _require_trading(terminal: Terminal, spec: SymbolSpec, *, opens: str | None = None) -> None:
    """The symbol's trade mode first, then its trading session."""
    _check_trade_mode(spec, opens)
    if not spec.is_open(terminal.clock()):
        raise TradeRejected("TRADE_RETCODE_MARKET_CLOSED", f"Market is closed for {spec.symbol}")


def _check_allowed(spec: SymbolSpec, *order_types: str | None) -> None:
    """Each SYMBOL_ORDER_* named must be in the symbol's allowedOrderTypes; None needs nothing."""
    for order_type in order_types:
        if order_type is not None and order_type not in spec.order_types:
            raise TradeRejected(
                "TRADE_RETCODE_INVALID_ORDER",
                f"{order_type} is not allowed for {spec.symbol}: {list(spec.order_types)}",
            )


def _stop_order_types(
    stop_loss: Decimal | None, take_profit: Decimal | None, trailing: Trailing | None
) -> tuple[str | None, str | None]:
    """A stop loss, trailing or not, needs SYMBOL_ORDER_SL; a take profit needs SYMBOL_ORDER_TP."""
    return (
        None if stop_loss is None and trailing is None else "SYMBOL_ORDER_SL",
        None if take_profit is None else "SYMBOL_ORDER_TP",
    )


def _check_expiration_mode(spec: SymbolSpec, expiration_type: str) -> None:
    if expiration_type.replace("ORDER_TIME_", "SYMBOL_EXPIRATION_", 1) not in spec.expiration_modes:
        raise TradeRejected(
            "TRADE_RETCODE_INVALID_EXPIRATION",
            f"{expiration_type} is not allowed for {spec.symbol}: {list(spec.expiration_modes)}",
        )


def _check_volume(spec: SymbolSpec, volume: Decimal) -> None:
    if not spec.valid_volume(volume):
        raise TradeRejected(
            "TRADE_RETCODE_INVALID_VOLUME",
            f"Invalid volume {volume} for {spec.symbol}: "
            f"{spec.min_volume}..{spec.max_volume} in steps of {spec.volume_step}",
        )


def _check_stops(
    spec: SymbolSpec,
    *,
    is_buy: bool,
    reference: Decimal,
    stop_loss: Decimal | None,
    take_profit: Decimal | None,
) -> None:
    """SL below and TP above a buy's reference price (mirrored for a sell), stopsLevel points away or more."""
    for name, level, is_stop_loss in (("stop loss", stop_loss, True), ("take profit", take_profit, False)):
        if level is None:
            continue
        distance = stop_distance(is_buy=is_buy, reference=reference, level=level, stop_loss=is_stop_loss)
        if not spec.has_digits(level) or not spec.far_enough(distance):
            raise TradeRejected(
                "TRADE_RETCODE_INVALID_STOPS",
                f"Invalid {name} {level}: it must be on the right side of {reference} "
                f"and at least {spec.stops_level} points away, with at most {spec.digits} decimals",
            )


def _check_pending_price(
    spec: SymbolSpec, quote: Quote, order_type: str, open_price: Decimal, stop_limit_price: Decimal | None
) -> None:
    checks = [("openPrice", open_price, price_distance(order_type, open_price, quote))]
    if stop_limit_price is not None:
        # The limit order a stop-limit places sits below the trigger for a buy, above it for a sell.
        sign = 1 if order_type in BUY_ORDER_TYPES else -1
        checks.append(("stopLimitPrice", stop_limit_price, (open_price - stop_limit_price) * sign))
    for name, price, distance in checks:
        if not spec.has_digits(price) or not spec.far_enough(distance):
            raise TradeRejected(
                "TRADE_RETCODE_INVALID_PRICE",
                f"Invalid {name} {price} for {order_type} with bid {quote.bid} and ask {quote.ask}",
            )


def _check_order_frozen(spec: SymbolSpec, quote: Quote, order: Order) -> None:
    if spec.frozen(price_distance(order.type, order.open_price, quote)):
        raise TradeRejected(
            "TRADE_RETCODE_FROZEN",
            f"Order {order.id} at {order.open_price} is frozen: within {spec.freeze_level} points "
            f"of bid {quote.bid} and ask {quote.ask}",
        )


def _check_position_frozen(terminal: Terminal, spec: SymbolSpec, position: Position) -> None:
    frozen = terminal.frozen_stop(position)
    if frozen is not None:
        raise TradeRejected(
            "TRADE_RETCODE_FROZEN",
            f"Position {position.id} is frozen: its {frozen} is within {spec.freeze_level} points "
            f"of the closing price {terminal.close_price(position)}",
        )


def _position(terminal: Terminal, request: TradeRequest, field: str = "positionId") -> Position:
    position = terminal.positions.get(request.ident(field))
    if position is None:
        raise TradeRejected("ERR_TRADE_POSITION_NOT_FOUND", f"Position {request.body.get(field)} not found")
    return position


def _order(terminal: Terminal, request: TradeRequest) -> Order:
    order = terminal.orders.get(request.ident("orderId"))
    if order is None:
        raise TradeRejected("ERR_TRADE_ORDER_NOT_FOUND", f"Order {request.body.get('orderId')} not found")
    return order


def _done(order_id: str | None = None, position_id: str | None = None) -> TradeResult:
    return TradeResult("TRADE_RETCODE_DONE", "Request completed", order_id, position_id)


def open_market(terminal: Terminal, fill: Fill, *, broker_rules: bool = True) -> TradeResult:
    """A market order, from the API or from the admin endpoint. The admin endpoint sets up what already
    is at the broker, so the symbol's trade mode, order types and sessions (`broker_rules`) do not bind it."""
    try:
        return _fill_market(terminal, fill, broker_rules=broker_rules)
    except TradeRejected as rejection:
        return rejection.result


def _fill_market(terminal: Terminal, fill: Fill, *, broker_rules: bool) -> TradeResult:
    spec = fill.spec
    if broker_rules:
        order_type = "ORDER_TYPE_BUY" if fill.is_buy else "ORDER_TYPE_SELL"
        _require_trading(terminal, spec, opens=order_type)
        _check_allowed(
            spec,
            _SYMBOL_ORDER_TYPES[order_type],
            *_stop_order_types(fill.stop_loss, fill.take_profit, fill.trailing),
        )
    _check_volume(spec, fill.volume)
    quote = terminal.quote(spec.symbol)
    _check_stops(
        spec,
        is_buy=fill.is_buy,
        reference=quote.bid if fill.is_buy else quote.ask,
        stop_loss=fill.stop_loss,
        take_profit=fill.take_profit,
    )
    price = quote.ask if fill.is_buy else quote.bid
    needed = terminal.margin_increase(spec, is_buy=fill.is_buy, volume=fill.volume, price=price)
    if needed > 0 and needed > terminal.free_margin():
        raise TradeRejected(
            "TRADE_RETCODE_NO_MONEY",
            f"Not enough money: {needed} margin needed, {terminal.free_margin()} free",
        )
    order_id, position_id = terminal.fill(fill)
    return _done(order_id, position_id)


def _market(terminal: Terminal, request: TradeRequest, default_magic: int) -> TradeResult:
    is_buy = request.action == "ORDER_TYPE_BUY"
    fill = Fill(
        spec=request.symbol(terminal.symbols),
        is_buy=is_buy,
        volume=request.volume(),
        stop_loss=request.price("stopLoss"),
        take_profit=request.price("takeProfit"),
        stamp=request.stamp(default_magic),
        filling_mode=request.filling_mode(),
        trailing=request.trailing(is_buy=is_buy),
    )
    return _fill_market(terminal, fill, broker_rules=True)


def _pending(terminal: Terminal, request: TradeRequest, default_magic: int) -> TradeResult:
    spec = request.symbol(terminal.symbols)
    is_buy = request.action in BUY_ORDER_TYPES
    volume = request.volume()
    open_price = request.required_price("openPrice")
    stop_limit_price = request.required_price("stopLimitPrice") if "STOP_LIMIT" in request.action else None
    stop_loss, take_profit = request.price("stopLoss"), request.price("takeProfit")
    trailing = request.trailing(is_buy=is_buy)
    stamp = request.stamp(default_magic)
    now = terminal.clock()
    expiration_type, expiration_time = request.expiration(now)
    # Brokers take pending orders outside the session; they trigger only when it opens.
    _check_trade_mode(spec, request.action)
    _check_allowed(
        spec, _SYMBOL_ORDER_TYPES[request.action], *_stop_order_types(stop_loss, take_profit, trailing)
    )
    _check_expiration_mode(spec, expiration_type)
    _check_volume(spec, volume)
    _check_pending_price(spec, terminal.quote(spec.symbol), request.action, open_price, stop_limit_price)
    _check_stops(
        spec,
        is_buy=is_buy,
        reference=stop_limit_price or open_price,
        stop_loss=stop_loss,
        take_profit=take_profit,
    )
    order = Order(
        id=terminal.tickets.order(),
        type=request.action,
        state="ORDER_STATE_PLACED",
        symbol=spec.symbol,
        magic=stamp.magic,
        time=now,
        open_price=open_price,
        volume=volume,
        current_volume=volume,
        platform=terminal.platform,
        origin=stamp.origin,
        filling_mode="ORDER_FILLING_RETURN",
        expiration_type=expiration_type,
        expiration_time=expiration_time,
        stop_limit_price=stop_limit_price,
        stop_loss=stop_loss,
        take_profit=take_profit,
        comment=stamp.comment,
        client_id=stamp.client_id,
        trailing=trailing,
    )
    terminal.place(order)
    return TradeResult("TRADE_RETCODE_PLACED", "Order placed", order_id=order.id)


def _modify_position(terminal: Terminal, request: TradeRequest, _magic: int) -> TradeResult:
    position = _position(terminal, request)
    spec = terminal.symbols[position.symbol]
    stop_loss = request.price("stopLoss") if "stopLoss" in request.body else position.stop_loss
    take_profit = request.price("takeProfit") if "takeProfit" in request.body else position.take_profit
    trailing = position.trailing
    if "trailingStopLoss" in request.body:
        trailing = request.trailing(is_buy=position.is_buy)
    _require_trading(terminal, spec)
    if (stop_loss, take_profit, trailing) == (position.stop_loss, position.take_profit, position.trailing):
        return TradeResult("TRADE_RETCODE_NO_CHANGES", "No changes in request", position_id=position.id)
    # Only what the request sets anew needs the symbol to allow it.
    _check_allowed(
        spec,
        *_stop_order_types(
            None if stop_loss == position.stop_loss else stop_loss,
            None if take_profit == position.take_profit else take_profit,
            None if trailing == position.trailing else trailing,
        ),
    )
    _check_position_frozen(terminal, spec, position)
    _check_stops(
        spec,
        is_buy=position.is_buy,
        reference=terminal.close_price(position),
        stop_loss=stop_loss,
        take_profit=take_profit,
    )
    position.stop_loss, position.take_profit, position.trailing = stop_loss, take_profit, trailing
    position.update_time = terminal.clock()
    return _done(position_id=position.id)


def _partial(terminal: Terminal, request: TradeRequest, _magic: int) -> TradeResult:
    position = _position(terminal, request)
    spec = terminal.symbols[position.symbol]
    volume = request.volume()
    _require_trading(terminal, spec)
    if volume > position.volume or not spec.valid_volume(volume):
        raise TradeRejected(
            "TRADE_RETCODE_INVALID_VOLUME",
            f"Invalid volume {volume}: the position holds {position.volume} "
            f"and {spec.symbol} trades in steps of {spec.volume_step}",
        )
    order_id = terminal.close(position, volume, request.stamp(position.magic))
    return _done(order_id, position.id)


def _close(terminal: Terminal, request: TradeRequest, _magic: int) -> TradeResult:
    position = _position(terminal, request)
    _require_trading(terminal, terminal.symbols[position.symbol])
    order_id = terminal.close(position, position.volume, request.stamp(position.magic))
    return _done(order_id, position.id)


def _close_by(terminal: Terminal, request: TradeRequest, _magic: int) -> TradeResult:
    position = _position(terminal, request)
    opposite = _position(terminal, request, "closeByPositionId")
    if not terminal.hedging:
        raise _invalid("POSITION_CLOSE_BY is only available on hedging accounts")
    if opposite.symbol != position.symbol or opposite.is_buy == position.is_buy:
        raise _invalid("POSITION_CLOSE_BY needs an opposite position on the same symbol")
    spec = terminal.symbols[position.symbol]
    _require_trading(terminal, spec)
    _check_allowed(spec, "SYMBOL_ORDER_CLOSEBY")
    order_id = terminal.close_by(position, opposite, request.stamp(position.magic))
    return _done(order_id, position.id)


def _close_symbol(terminal: Terminal, request: TradeRequest, _magic: int) -> TradeResult:
    spec = request.symbol(terminal.symbols)
    positions = [p for p in terminal.positions.values() if p.symbol == spec.symbol]
    if not positions:
        raise TradeRejected("ERR_TRADE_POSITION_NOT_FOUND", f"No open positions for {spec.symbol}")
    _require_trading(terminal, spec)
    for position in positions:
        terminal.close(position, position.volume, request.stamp(position.magic))
    return _done()


def _modify_order(terminal: Terminal, request: TradeRequest, _magic: int) -> TradeResult:
    order = _order(terminal, request)
    spec = terminal.symbols[order.symbol]
    open_price = request.price("openPrice") or order.open_price
    stop_limit_price = order.stop_limit_price
    if stop_limit_price is not None and "stopLimitPrice" in request.body:
        stop_limit_price = request.required_price("stopLimitPrice")
    stop_loss = request.price("stopLoss") if "stopLoss" in request.body else order.stop_loss
    take_profit = request.price("takeProfit") if "takeProfit" in request.body else order.take_profit
    trailing = request.trailing(is_buy=order.is_buy) if "trailingStopLoss" in request.body else order.trailing
    expiration = (order.expiration_type, order.expiration_time)
    if "expiration" in request.body:
        expiration = request.expiration(terminal.clock())
    _require_trading(terminal, spec)
    after = (open_price, stop_limit_price, stop_loss, take_profit, trailing, expiration)
    before = (order.open_price, order.stop_limit_price, order.stop_loss, order.take_profit, order.trailing)
    if after == (*before, (order.expiration_type, order.expiration_time)):
        return TradeResult("TRADE_RETCODE_NO_CHANGES", "No changes in request", order_id=order.id)
    # Only what the request sets anew needs the symbol to allow it.
    _check_allowed(
        spec,
        *_stop_order_types(
            None if stop_loss == order.stop_loss else stop_loss,
            None if take_profit == order.take_profit else take_profit,
            None if trailing == order.trailing else trailing,
        ),
    )
    if expiration != (order.expiration_type, order.expiration_time):
        _check_expiration_mode(spec, expiration[0])
    quote = terminal.quote(spec.symbol)
    _check_order_frozen(spec, quote, order)
    _check_pending_price(spec, quote, order.type, open_price, stop_limit_price)
    _check_stops(
        spec,
        is_buy=order.is_buy,
        reference=stop_limit_price or open_price,
        stop_loss=stop_loss,
        take_profit=take_profit,
    )
    order.open_price, order.stop_limit_price = open_price, stop_limit_price
    order.stop_loss, order.take_profit, order.trailing = stop_loss, take_profit, trailing
    order.expiration_type, order.expiration_time = expiration
    return _done(order_id=order.id)


def _cancel_order(terminal: Terminal, request: TradeRequest, _magic: int) -> TradeResult:
    order = _order(terminal, request)
    spec = terminal.symbols[order.symbol]
    _require_trading(terminal, spec)
    _check_order_frozen(spec, terminal.quote(spec.symbol), order)
    terminal.cancel(order)
    return _done(order_id=order.id)


_Handler = Callable[[Terminal, TradeRequest, int], TradeResult]
_PENDING_TYPES = (
    "ORDER_TYPE_BUY_LIMIT",
    "ORDER_TYPE_SELL_LIMIT",
    "ORDER_TYPE_BUY_STOP",
    "ORDER_TYPE_SELL_STOP",
    "ORDER_TYPE_BUY_STOP_LIMIT",
    "ORDER_TYPE_SELL_STOP_LIMIT",
)
_HANDLERS: dict[str, _Handler] = {
    "ORDER_TYPE_BUY": _market,
    "ORDER_TYPE_SELL": _market,
    **dict.fromkeys(_PENDING_TYPES, _pending),
    "POSITION_MODIFY": _modify_position,
    "POSITION_PARTIAL": _partial,
    "POSITION_CLOSE_ID": _close,
    "POSITION_CLOSE_BY": _close_by,
    "POSITIONS_CLOSE_SYMBOL": _close_symbol,
    "ORDER_MODIFY": _modify_order,
    "ORDER_CANCEL": _cancel_order,
}


def execute_trade(terminal: Terminal, body: Any, *, default_magic: int) -> TradeResult:
    try:
        request = TradeRequest(body)
        handler = _HANDLERS.get(request.action)
        if handler is None:
            raise _invalid(f"Unknown actionType {request.action}")
        return handler(terminal, request, default_magic)
    except TradeRejected as rejection:
        return rejection.result

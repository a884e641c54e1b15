"""`POST .../trade`: validates a MetatraderTrade body and applies it to a terminal.

Every outcome, success or refusal, is a MetatraderTradeResponse; nothing here raises to the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from infra.local.metaapi_sim.market import Quote
from infra.local.metaapi_sim.models import BUY_ORDER_TYPES, Order, Position
from infra.local.metaapi_sim.symbols import FILLING_MODES, SYMBOLS, SymbolSpec
from infra.local.metaapi_sim.terminal import Fill, Stamp, Terminal
from infra.local.metaapi_sim.wire import parse_iso

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
    "TRADE_RETCODE_MARKET_CLOSED": 10018,
    "TRADE_RETCODE_NO_MONEY": 10019,
    "TRADE_RETCODE_INVALID_EXPIRATION": 10022,
    "TRADE_RETCODE_NO_CHANGES": 10025,
    "TRADE_RETCODE_INVALID_FILL": 10030,
    "TRADE_RETCODE_CONNECTION": 10031,
}
# Codes after which the terminal changed: NO_CHANGES is a success that changes nothing.
EXECUTED_CODES = frozenset({"TRADE_RETCODE_PLACED", "TRADE_RETCODE_DONE"})
MAX_COMMENT_AND_CLIENT_ID = 26
EXPIRATION_TYPES = frozenset(
    {"ORDER_TIME_GTC", "ORDER_TIME_DAY", "ORDER_TIME_SPECIFIED", "ORDER_TIME_SPECIFIED_DAY"}
)
UNSUPPORTED_FIELDS = ("trailingStopLoss",)
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
        for name in UNSUPPORTED_FIELDS:
            if name in body:
                raise _invalid(f"{name} is not supported by the simulator")
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

    def symbol(self) -> SymbolSpec:
        name = self.required_text("symbol")
        spec = SYMBOLS.get(name)
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
        if moment is None or moment <= now:
            raise TradeRejected(
                "TRADE_RETCODE_INVALID_EXPIRATION", "expiration.time must be a future ISO time"
            )
        return str(kind), moment

    def _magic(self) -> int | None:
        value = self.body.get("magic")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _invalid("magic must be a non-negative integer")
        return value


def _require_open(terminal: Terminal, spec: SymbolSpec) -> None:
    if not spec.is_open(terminal.clock()):
        raise TradeRejected("TRADE_RETCODE_MARKET_CLOSED", f"Market is closed for {spec.symbol}")


def _check_volume(spec: SymbolSpec, volume: Decimal) -> None:
    if not spec.valid_volume(volume):
        raise TradeRejected(
            "TRADE_RETCODE_INVALID_VOLUME",
            f"Invalid volume {volume} for {spec.symbol}: "
            f"{spec.min_volume}..{spec.max_volume} in steps of {spec.volume_step}",
        )


def _far_enough(spec: SymbolSpec, distance: Decimal) -> bool:
    return distance >= max(spec.stops_level * spec.point, spec.point)


def _check_stops(
    spec: SymbolSpec,
    *,
    is_buy: bool,
    reference: Decimal,
    stop_loss: Decimal | None,
    take_profit: Decimal | None,
) -> None:
    """SL below and TP above a buy's reference price (mirrored for a sell), stopsLevel points away or more."""
    sign = 1 if is_buy else -1
    for name, price, distance in (
        ("stop loss", stop_loss, None if stop_loss is None else (reference - stop_loss) * sign),
        ("take profit", take_profit, None if take_profit is None else (take_profit - reference) * sign),
    ):
        if price is None or distance is None:
            continue
        if not spec.has_digits(price) or not _far_enough(spec, distance):
            raise TradeRejected(
                "TRADE_RETCODE_INVALID_STOPS",
                f"Invalid {name} {price}: it must be on the right side of {reference} "
                f"and at least {spec.stops_level} points away, with at most {spec.digits} decimals",
            )


def _check_pending_price(
    spec: SymbolSpec, quote: Quote, order_type: str, open_price: Decimal, stop_limit_price: Decimal | None
) -> None:
    buy = order_type in BUY_ORDER_TYPES
    market = quote.ask if buy else quote.bid
    below_market = order_type.endswith("_LIMIT") and not order_type.endswith("STOP_LIMIT")
    sign = 1 if buy == below_market else -1
    checks = [("openPrice", open_price, (market - open_price) * sign)]
    if stop_limit_price is not None:
        # The limit order a stop-limit places sits below the trigger for a buy, above it for a sell.
        checks.append(
            ("stopLimitPrice", stop_limit_price, (open_price - stop_limit_price) * (1 if buy else -1))
        )
    for name, price, distance in checks:
        if not spec.has_digits(price) or not _far_enough(spec, distance):
            raise TradeRejected(
                "TRADE_RETCODE_INVALID_PRICE",
                f"Invalid {name} {price} for {order_type} with bid {quote.bid} and ask {quote.ask}",
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


def open_market(terminal: Terminal, fill: Fill, *, within_sessions: bool = True) -> TradeResult:
    """A market order, from the API or (not bound to trading sessions) from the admin endpoint."""
    try:
        return _fill_market(terminal, fill, within_sessions=within_sessions)
    except TradeRejected as rejection:
        return rejection.result


def _fill_market(terminal: Terminal, fill: Fill, *, within_sessions: bool) -> TradeResult:
    spec = fill.spec
    if within_sessions:
        _require_open(terminal, spec)
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
    fill = Fill(
        spec=request.symbol(),
        is_buy=request.action == "ORDER_TYPE_BUY",
        volume=request.volume(),
        stop_loss=request.price("stopLoss"),
        take_profit=request.price("takeProfit"),
        stamp=request.stamp(default_magic),
        filling_mode=request.filling_mode(),
    )
    return _fill_market(terminal, fill, within_sessions=True)


def _pending(terminal: Terminal, request: TradeRequest, default_magic: int) -> TradeResult:
    spec = request.symbol()
    volume = request.volume()
    open_price = request.required_price("openPrice")
    stop_limit_price = request.required_price("stopLimitPrice") if "STOP_LIMIT" in request.action else None
    stop_loss, take_profit = request.price("stopLoss"), request.price("takeProfit")
    stamp = request.stamp(default_magic)
    now = terminal.clock()
    expiration_type, expiration_time = request.expiration(now)
    _require_open(terminal, spec)
    _check_volume(spec, volume)
    _check_pending_price(spec, terminal.quote(spec.symbol), request.action, open_price, stop_limit_price)
    _check_stops(
        spec,
        is_buy=request.action in BUY_ORDER_TYPES,
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
    )
    terminal.place(order)
    return TradeResult("TRADE_RETCODE_PLACED", "Order placed", order_id=order.id)


def _modify_position(terminal: Terminal, request: TradeRequest, _magic: int) -> TradeResult:
    position = _position(terminal, request)
    spec = SYMBOLS[position.symbol]
    stop_loss = request.price("stopLoss") if "stopLoss" in request.body else position.stop_loss
    take_profit = request.price("takeProfit") if "takeProfit" in request.body else position.take_profit
    _require_open(terminal, spec)
    if (stop_loss, take_profit) == (position.stop_loss, position.take_profit):
        return TradeResult("TRADE_RETCODE_NO_CHANGES", "No changes in request", position_id=position.id)
    _check_stops(
        spec,
        is_buy=position.is_buy,
        reference=terminal.close_price(position),
        stop_loss=stop_loss,
        take_profit=take_profit,
    )
    position.stop_loss, position.take_profit, position.update_time = stop_loss, take_profit, terminal.clock()
    return _done(position_id=position.id)


def _partial(terminal: Terminal, request: TradeRequest, _magic: int) -> TradeResult:
    position = _position(terminal, request)
    spec = SYMBOLS[position.symbol]
    volume = request.volume()
    _require_open(terminal, spec)
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
    _require_open(terminal, SYMBOLS[position.symbol])
    order_id = terminal.close(position, position.volume, request.stamp(position.magic))
    return _done(order_id, position.id)


def _close_by(terminal: Terminal, request: TradeRequest, _magic: int) -> TradeResult:
    position = _position(terminal, request)
    opposite = _position(terminal, request, "closeByPositionId")
    if not terminal.hedging:
        raise _invalid("POSITION_CLOSE_BY is only available on hedging accounts")
    if opposite.symbol != position.symbol or opposite.is_buy == position.is_buy:
        raise _invalid("POSITION_CLOSE_BY needs an opposite position on the same symbol")
    _require_open(terminal, SYMBOLS[position.symbol])
    order_id = terminal.close_by(position, opposite, request.stamp(position.magic))
    return _done(order_id, position.id)


def _close_symbol(terminal: Terminal, request: TradeRequest, _magic: int) -> TradeResult:
    spec = request.symbol()
    positions = [p for p in terminal.positions.values() if p.symbol == spec.symbol]
    if not positions:
        raise TradeRejected("ERR_TRADE_POSITION_NOT_FOUND", f"No open positions for {spec.symbol}")
    _require_open(terminal, spec)
    for position in positions:
        terminal.close(position, position.volume, request.stamp(position.magic))
    return _done()


def _modify_order(terminal: Terminal, request: TradeRequest, _magic: int) -> TradeResult:
    order = _order(terminal, request)
    spec = SYMBOLS[order.symbol]
    open_price = request.price("openPrice") or order.open_price
    stop_limit_price = order.stop_limit_price
    if stop_limit_price is not None and "stopLimitPrice" in request.body:
        stop_limit_price = request.required_price("stopLimitPrice")
    stop_loss = request.price("stopLoss") if "stopLoss" in request.body else order.stop_loss
    take_profit = request.price("takeProfit") if "takeProfit" in request.body else order.take_profit
    expiration = (order.expiration_type, order.expiration_time)
    if "expiration" in request.body:
        expiration = request.expiration(terminal.clock())
    _require_open(terminal, spec)
    after = (open_price, stop_limit_price, stop_loss, take_profit, expiration)
    before = (order.open_price, order.stop_limit_price, order.stop_loss, order.take_profit)
    if after == (*before, (order.expiration_type, order.expiration_time)):
        return TradeResult("TRADE_RETCODE_NO_CHANGES", "No changes in request", order_id=order.id)
    _check_pending_price(spec, terminal.quote(spec.symbol), order.type, open_price, stop_limit_price)
    _check_stops(
        spec,
        is_buy=order.is_buy,
        reference=stop_limit_price or open_price,
        stop_loss=stop_loss,
        take_profit=take_profit,
    )
    order.open_price, order.stop_limit_price = open_price, stop_limit_price
    order.stop_loss, order.take_profit = stop_loss, take_profit
    order.expiration_type, order.expiration_time = expiration
    return _done(order_id=order.id)


def _cancel_order(terminal: Terminal, request: TradeRequest, _magic: int) -> TradeResult:
    order = _order(terminal, request)
    _require_open(terminal, SYMBOLS[order.symbol])
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

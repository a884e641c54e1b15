"""Pre-trade checks: what the broker would refuse, refused first, in words a trader understands.

Pure functions over a symbol's specification and a price; each refusal is a `TradeRefused`
(422) naming the rule, the broker's limit and the value sent. The broker stays the last word:
these checks only spare the trader a round trip and a cryptic code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from mtcore.errors import TradeRefused
from mtcore.metaapi.models import TradeAction

if TYPE_CHECKING:
    from mtcore.metaapi.models import SymbolPrice, SymbolSpecification

BUYS = frozenset({TradeAction.BUY, TradeAction.BUY_LIMIT, TradeAction.BUY_STOP, TradeAction.BUY_STOP_LIMIT})
MARKET = frozenset({TradeAction.BUY, TradeAction.SELL})
PENDING = frozenset(
    {
        TradeAction.BUY_LIMIT,
        TradeAction.SELL_LIMIT,
        TradeAction.BUY_STOP,
        TradeAction.SELL_STOP,
        TradeAction.BUY_STOP_LIMIT,
        TradeAction.SELL_STOP_LIMIT,
    }
)
_ORDER_TYPE_RIGHT = {
    TradeAction.BUY: "SYMBOL_ORDER_MARKET",
    TradeAction.SELL: "SYMBOL_ORDER_MARKET",
    TradeAction.BUY_LIMIT: "SYMBOL_ORDER_LIMIT",
    TradeAction.SELL_LIMIT: "SYMBOL_ORDER_LIMIT",
    TradeAction.BUY_STOP: "SYMBOL_ORDER_STOP",
    TradeAction.SELL_STOP: "SYMBOL_ORDER_STOP",
    TradeAction.BUY_STOP_LIMIT: "SYMBOL_ORDER_STOP_LIMIT",
    TradeAction.SELL_STOP_LIMIT: "SYMBOL_ORDER_STOP_LIMIT",
}
_DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


# Units of a symbol ---------------------------------------------------------------------------


def point_of(spec: SymbolSpecification) -> Decimal:
    if spec.point:
        return spec.point
    if spec.tick_size:
        return spec.tick_size
    return Decimal(1).scaleb(-(5 if spec.digits is None else spec.digits))


# A metal's pip is a fixed price step whatever digits the broker quotes it with (gold at 2
# digits has a point of 0.01 but a pip of 0.1): by its base currency, or its name.
_METAL_PIPS = {"XAU": Decimal("0.1"), "XAG": Decimal("0.01"), "XPT": Decimal("0.1"), "XPD": Decimal("0.1")}
_METAL_NAMES = {"GOLD": "XAU", "SILVER": "XAG", "PLATINUM": "XPT", "PALLADIUM": "XPD"}


def pip_of(spec: SymbolSpecification) -> Decimal:
    """The broker's pip size; else a metal's conventional pip; else the forex convention (10
    points on 3- and 5-digit quotes, a point otherwise)."""
    if spec.pip_size:
        return spec.pip_size
    metal = _metal_of(spec)
    if metal is not None:
        return _METAL_PIPS[metal]
    point = point_of(spec)
    return point * 10 if spec.digits in (3, 5) else point


def _metal_of(spec: SymbolSpecification) -> str | None:
    base = str((spec.model_extra or {}).get("baseCurrency") or "").upper()
    if base in _METAL_PIPS:
        return base
    name = spec.symbol.upper()
    return next(
        (metal for metal in _METAL_PIPS if name.startswith(metal)),
        next((metal for word, metal in _METAL_NAMES.items() if name.startswith(word)), None),
    )


def to_price(spec: SymbolSpecification, value: Decimal) -> Decimal:
    """A computed price on the symbol's tick grid."""
    tick = spec.tick_size or point_of(spec)
    return (value / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP) * tick


def relative_distance(spec: SymbolSpecification, value: Decimal, units: str) -> Decimal:
    if units == "RELATIVE_POINTS":
        return value * point_of(spec)
    if units == "RELATIVE_PIPS":
        return value * pip_of(spec)
    return value  # RELATIVE_PRICE


def positive_level(price: Decimal, *, is_stop_loss: bool) -> Decimal:
    """MetaTrader reads a level of 0 as none at all: a computed level must stay above it."""
    if price <= 0:
        name = "stop loss" if is_stop_loss else "take profit"
        raise TradeRefused(
            f"{_code(name)}_INVALID",
            "body.stopLoss" if is_stop_loss else "body.takeProfit",
            f"the {name} works out at {price}, which is no price: use a smaller distance",
            limit="above 0",
            value=price,
        )
    return price


def level(
    spec: SymbolSpecification, *, value: Decimal, units: str, base: Decimal, is_buy: bool, is_stop_loss: bool
) -> Decimal:
    """A stop loss or take profit as a price: absolute as given, relative measured from `base`
    away from the trade (below a buy's entry for its stop loss, above it for its take profit)."""
    if units == "ABSOLUTE_PRICE":
        return value
    distance = relative_distance(spec, value, units)
    below = is_buy == is_stop_loss
    return to_price(spec, base - distance if below else base + distance)


def buffered(
    spec: SymbolSpecification, price: Decimal | None, *, pips: Decimal, is_buy: bool, is_stop_loss: bool
) -> Decimal | None:
    """The account's buffer, moved away from the entry: a buy's stop loss lower and take profit
    higher, a sell's the other way round."""
    if price is None or not pips:
        return price
    shift = pips * pip_of(spec)
    below = is_buy == is_stop_loss
    return to_price(spec, price - shift if below else price + shift)


def _points(spec: SymbolSpecification, distance: Decimal) -> Decimal:
    points = distance / point_of(spec)
    return points.quantize(Decimal(1)) if points == points.to_integral_value() else points.normalize()


def _shown(spec: SymbolSpecification, price: Decimal) -> str:
    return f"{price:.{spec.digits}f}" if spec.digits is not None else str(price)


# Volume ---------------------------------------------------------------------------------------


def volume_within(spec: SymbolSpecification, volume: Decimal, field: str = "body.volume") -> Decimal:
    """The volume rounded down to the broker's step, within its minimum and maximum."""
    step = spec.volume_step or Decimal("0.01")
    adjusted = (volume / step).to_integral_value(rounding=ROUND_DOWN) * step
    if adjusted <= 0 or (spec.min_volume is not None and adjusted < spec.min_volume):
        raise TradeRefused(
            "VOLUME_TOO_SMALL",
            field,
            f"{volume} lots is below the minimum of {spec.min_volume} lots for {spec.symbol}"
            + (f" (rounded down to the step of {step}: {adjusted})" if adjusted != volume else ""),
            limit=spec.min_volume if spec.min_volume is not None else step,
            value=volume,
        )
    if spec.max_volume is not None and adjusted > spec.max_volume:
        raise TradeRefused(
            "VOLUME_TOO_LARGE",
            field,
            f"{volume} lots is above the maximum of {spec.max_volume} lots for {spec.symbol}",
            limit=spec.max_volume,
            value=volume,
        )
    return adjusted


# What the symbol allows -----------------------------------------------------------------------


def trade_mode_allows(spec: SymbolSpecification, *, is_buy: bool | None, opening: bool) -> None:
    """`is_buy` None: the action opens nothing on either side (a modify, a close)."""
    mode = spec.trade_mode or "SYMBOL_TRADE_MODE_FULL"
    refusal: tuple[str, str] | None = None
    if mode == "SYMBOL_TRADE_MODE_DISABLED":
        refusal = ("TRADING_DISABLED", f"trading {spec.symbol} is disabled by the broker")
    elif opening and mode == "SYMBOL_TRADE_MODE_CLOSEONLY":
        refusal = ("CLOSE_ONLY", f"{spec.symbol} is close-only at this broker: no new positions or orders")
    elif opening and mode == "SYMBOL_TRADE_MODE_LONGONLY" and is_buy is False:
        refusal = ("LONG_ONLY", f"{spec.symbol} is long-only at this broker: sells are refused")
    elif opening and mode == "SYMBOL_TRADE_MODE_SHORTONLY" and is_buy is True:
        refusal = ("SHORT_ONLY", f"{spec.symbol} is short-only at this broker: buys are refused")
    if refusal is not None:
        raise TradeRefused(refusal[0], "body.symbol", refusal[1], limit=mode, value=spec.symbol)


def order_type_allowed(spec: SymbolSpecification, right: str, field: str, what: str) -> None:
    allowed = spec.allowed_order_types
    if allowed is not None and right not in allowed:
        raise TradeRefused(
            "ORDER_TYPE_NOT_ALLOWED",
            field,
            f"this broker does not allow {what} on {spec.symbol}",
            limit=",".join(allowed),
            value=right,
        )


def order_types_allowed(
    spec: SymbolSpecification, action: TradeAction, *, stop_loss: bool, take_profit: bool
) -> None:
    order_type_allowed(spec, _ORDER_TYPE_RIGHT[action], "body.actionType", f"{action} orders")
    if stop_loss:
        order_type_allowed(spec, "SYMBOL_ORDER_SL", "body.stopLoss", "stop loss orders")
    if take_profit:
        order_type_allowed(spec, "SYMBOL_ORDER_TP", "body.takeProfit", "take profit orders")


def filling_allowed(spec: SymbolSpecification, requested: list[str] | None, *, pending: bool) -> None:
    allowed = spec.filling_modes
    if not requested or not allowed:
        return
    # Specifications name them SYMBOL_FILLING_*, some older ones ORDER_FILLING_*.
    names = {mode.replace("SYMBOL_", "ORDER_", 1) for mode in allowed}
    if pending:
        names.add("ORDER_FILLING_RETURN")  # every symbol takes RETURN for pending orders
    if not any(mode in names for mode in requested):
        raise TradeRefused(
            "FILLING_MODE_NOT_ALLOWED",
            "body.fillingModes",
            f"{spec.symbol} accepts {', '.join(sorted(names))}",
            limit=",".join(sorted(names)),
            value=",".join(requested),
        )


def expiration_allowed(spec: SymbolSpecification, kind: str, at: datetime | None, now: datetime) -> None:
    mode = kind.replace("ORDER_TIME_", "SYMBOL_EXPIRATION_", 1)
    allowed = spec.allowed_expiration_modes
    if allowed is not None and mode not in allowed:
        raise TradeRefused(
            "EXPIRATION_NOT_ALLOWED",
            "body.expiration.type",
            f"{spec.symbol} does not take {kind} expirations at this broker",
            limit=",".join(allowed),
            value=kind,
        )
    if kind in ("ORDER_TIME_SPECIFIED", "ORDER_TIME_SPECIFIED_DAY"):
        if at is None:
            raise TradeRefused("EXPIRATION_TIME_MISSING", "body.expiration.time", f"{kind} needs a time")
        # SPECIFIED_DAY expires at the end of the given day: earlier today is still valid.
        past = at.date() < now.date() if kind == "ORDER_TIME_SPECIFIED_DAY" else at <= now
        if past:
            raise TradeRefused(
                "EXPIRATION_IN_PAST",
                "body.expiration.time",
                f"the expiration {at.isoformat()} has already passed",
                limit=now.isoformat(),
                value=at.isoformat(),
            )


# Sessions and spread --------------------------------------------------------------------------


def market_open(spec: SymbolSpecification, at: datetime | None) -> None:
    """Trading sessions are in broker time, per weekday, as `hh:mm:ss.SSS` ranges."""
    if spec.trade_sessions is None or at is None:
        return
    day = _DAYS[at.weekday()]
    clock = at.strftime("%H:%M:%S.") + f"{at.microsecond // 1000:03d}"
    sessions = spec.trade_sessions.get(day, [])
    if any(session.get("from", "") <= clock <= session.get("to", "") for session in sessions):
        return
    hours = ", ".join(f"{s.get('from', '')[:5]}-{s.get('to', '')[:5]}" for s in sessions) or "closed all day"
    raise TradeRefused(
        "MARKET_CLOSED",
        "body.symbol",
        f"{spec.symbol} is not trading now ({day.title()} {clock[:5]} broker time; sessions: {hours})",
        limit=hours,
        value=f"{day} {clock[:8]}",
    )


def spread_within(spec: SymbolSpecification, price: SymbolPrice, max_points: int | None) -> None:
    if max_points is None:
        return
    spread = _points(spec, price.ask - price.bid)
    if spread > max_points:
        raise TradeRefused(
            "SPREAD_TOO_WIDE",
            "body.symbol",
            f"the spread on {spec.symbol} is {spread} points; this account allows at most {max_points}",
            limit=max_points,
            value=spread,
        )


def margin_within(needed: Decimal | None, free: Decimal | None, currency: str | None) -> None:
    if needed is None or free is None or needed <= free:
        return
    unit = f" {currency}" if currency else ""
    raise TradeRefused(
        "INSUFFICIENT_MARGIN",
        "body.volume",
        f"this order needs {needed:.2f}{unit} of margin; the account has {free:.2f}{unit} free",
        limit=f"{free:.2f}",
        value=f"{needed:.2f}",
    )


# Prices ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Distance:
    """A price that must sit on one side of a reference, at least `stopsLevel` points away."""

    field: str
    name: str  # "stop loss", "open price", …
    price: Decimal
    reference: Decimal
    reference_name: str  # "the price", "the open price"
    above: bool  # must the price be above the reference?


def on_grid(spec: SymbolSpecification, field: str, name: str, price: Decimal) -> None:
    tick = spec.tick_size or point_of(spec)
    if price % tick != 0:
        raise TradeRefused(
            "PRICE_PRECISION",
            field,
            f"{name} {price} is not a multiple of {spec.symbol}'s tick size {tick}",
            limit=tick,
            value=price,
        )


def far_enough(spec: SymbolSpecification, check: Distance, *, level_points: int | None = None) -> None:
    """At least `stopsLevel` points away on the right side (and at least one point: a stop at
    the price itself is never valid)."""
    on_grid(spec, check.field, check.name, check.price)
    side = "above" if check.above else "below"
    gap = check.price - check.reference if check.above else check.reference - check.price
    shown, reference = _shown(spec, check.price), _shown(spec, check.reference)
    if gap <= 0:
        raise TradeRefused(
            f"{_code(check.name)}_WRONG_SIDE",
            check.field,
            f"{check.name} {shown} must be {side} {check.reference_name} {reference}",
            limit=f"{side} {reference}",
            value=shown,
        )
    needed = spec.stops_level if level_points is None else level_points
    points = _points(spec, gap)
    if points < max(needed or 0, 1):
        raise TradeRefused(
            f"{_code(check.name)}_TOO_CLOSE",
            check.field,
            f"{check.name} {shown} is {points} points from {check.reference_name} {reference}; "
            f"this broker needs at least {needed}",
            limit=needed,
            value=points,
        )


def outside_freeze(spec: SymbolSpecification, field: str, name: str, price: Decimal, market: Decimal) -> None:
    """Within `freezeLevel` points of the market a level may no longer be changed."""
    freeze = spec.freeze_level or 0
    points = _points(spec, abs(price - market))
    if freeze and points <= freeze:
        raise TradeRefused(
            "FROZEN",
            field,
            f"{name} {_shown(spec, price)} is {points} points from the market {_shown(spec, market)}; "
            f"within {freeze} points this broker freezes it",
            limit=freeze,
            value=points,
        )


def stops(
    *,
    is_buy: bool,
    reference: Decimal,
    reference_name: str,
    stop_loss: Decimal | None,
    take_profit: Decimal | None,
) -> list[Distance]:
    """A buy's stop loss below and take profit above the reference; a sell's the other way round."""
    checks = []
    if stop_loss is not None:
        checks.append(
            Distance("body.stopLoss", "stop loss", stop_loss, reference, reference_name, not is_buy)
        )
    if take_profit is not None:
        checks.append(
            Distance("body.takeProfit", "take profit", take_profit, reference, reference_name, is_buy)
        )
    return checks


def pending_prices(
    action: TradeAction, price: SymbolPrice, open_price: Decimal, stop_limit_price: Decimal | None
) -> list[Distance]:
    """A limit waits for a better price, a stop for a worse one; a stop-limit's limit sits back
    from its stop (below it for a buy, above it for a sell)."""
    is_buy = action in BUYS
    market, market_name = (price.ask, "the ask") if is_buy else (price.bid, "the bid")
    is_limit = action in (TradeAction.BUY_LIMIT, TradeAction.SELL_LIMIT)
    # A buy limit below the market, a buy stop above it; sells mirrored.
    above = is_buy != is_limit
    checks = [Distance("body.openPrice", "open price", open_price, market, market_name, above)]
    if stop_limit_price is not None:
        checks.append(
            Distance(
                "body.stopLimitPrice",
                "stop limit price",
                stop_limit_price,
                open_price,
                "the open price",
                not is_buy,
            )
        )
    return checks


def _code(name: str) -> str:
    return name.upper().replace(" ", "_")

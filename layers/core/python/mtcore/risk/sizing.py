"""Position sizing: the volume an order's sizing asks for, from the symbol's specification, its
quote and the account's money, all in the account's currency. One function serves the API and,
at execution time, anything that queues an order sized later.

The loss of one lot at the stop loss is the distance in ticks times the quote's `lossTickValue`
(MetaApi gives it in the account's currency); without one, a tick of one lot in the profit
currency, converted at the rate the caller found. Volumes are rounded down to the volume step and
never exceed the budget: when even the minimum volume would, the order is refused with what the
smallest trade would cost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from mtcore.errors import TradeRefused
from mtcore.risk.models import (
    FixedSizing,
    MarginPercentSizing,
    NotionalSizing,
    RiskAmountSizing,
    RiskPercentSizing,
    Sized,
    Sizing,
)

if TYPE_CHECKING:
    from mtcore.metaapi.models import AccountInformation, SymbolPrice, SymbolSpecification

CENT = Decimal("0.01")
LOT_PRECISION = Decimal("1e-8")
LOTS_CEILING = Decimal(10) ** 9  # for a symbol whose broker names no maximum volume
FIELD = "body.sizing"


@dataclass(frozen=True)
class SizingMarket:
    """What sizing an order reads: all of it cached per container by the caller."""

    spec: SymbolSpecification
    price: SymbolPrice
    account: AccountInformation
    # One unit of the symbol's profit currency in the account's currency, for a quote without
    # tick values (None: the quote has them, or the currencies are the same).
    conversion: Decimal | None = None
    margin_per_lot: Decimal | None = None  # in the account's currency, for margin_percent


def tick_value(market: SizingMarket) -> Decimal | None:
    """One tick of one lot in the account's currency, or None when it cannot be known."""
    if market.price.loss_tick_value:
        return market.price.loss_tick_value
    spec, extra = market.spec, market.spec.model_extra or {}
    tick = spec.tick_size or spec.point or Decimal(0)
    if not tick or not spec.contract_size:
        return None
    if extra.get("profitCurrency") == market.account.currency:
        return tick * spec.contract_size
    return None if market.conversion is None else tick * spec.contract_size * market.conversion


def loss_per_lot(market: SizingMarket, *, entry: Decimal, stop_loss: Decimal) -> Decimal | None:
    """What one lot loses from `entry` to `stop_loss`, in the account's currency."""
    value = tick_value(market)
    tick = market.spec.tick_size or market.spec.point
    if value is None or not tick:
        return None
    return abs(entry - stop_loss) / tick * value


def size(sizing: Sizing, market: SizingMarket, *, entry: Decimal, stop_loss: Decimal | None) -> Sized:
    """The volume the sizing asks for, rounded down to the step, with what it risks."""
    currency = market.account.currency or ""
    per_lot = None if stop_loss is None else loss_per_lot(market, entry=entry, stop_loss=stop_loss)
    if isinstance(sizing, FixedSizing):
        return _sized(sizing.volume, market, per_lot)
    if isinstance(sizing, RiskPercentSizing | RiskAmountSizing):
        if stop_loss is None:
            raise TradeRefused(
                "SIZING_NEEDS_STOP_LOSS",
                "body.stopLoss",
                f"{sizing.mode} sizing needs a stop loss to measure risk by",
            )
        if per_lot is None:
            raise _no_tick_value(market)
        if not per_lot:
            raise TradeRefused(
                "SIZING_NEEDS_STOP_LOSS", "body.stopLoss", "the stop loss is at the entry: nothing is at risk"
            )
        if isinstance(sizing, RiskPercentSizing):
            base = market.account.balance if sizing.of == "balance" else market.account.equity
            budget = base * sizing.percent / 100
        else:
            budget = sizing.amount
        volume = _within_budget(
            budget / per_lot, market, lambda lots: per_lot * lots, budget, "risk", currency
        )
        return _sized(volume, market, per_lot)
    if isinstance(sizing, MarginPercentSizing):
        margin = market.margin_per_lot
        if not margin:
            raise TradeRefused(
                "SIZING_NO_MARGIN", FIELD, "MetaApi could not tell the margin this order needs"
            )
        budget = market.account.free_margin * sizing.percent / 100
        volume = _within_budget(
            budget / margin, market, lambda lots: margin * lots, budget, "need as margin", currency
        )
        return _sized(volume, market, per_lot)
    assert isinstance(sizing, NotionalSizing)
    value = tick_value(market)
    tick = market.spec.tick_size or market.spec.point
    if value is None or not tick:
        raise _no_tick_value(market)
    per_lot_value = entry / tick * value
    volume = _within_budget(
        sizing.amount / per_lot_value,
        market,
        lambda lots: per_lot_value * lots,
        sizing.amount,
        "be worth",
        currency,
    )
    return _sized(volume, market, per_lot)


def _within_budget(
    lots: Decimal,
    market: SizingMarket,
    cost_of: Callable[[Decimal], Decimal],
    budget: Decimal,
    what: str,
    currency: str,
) -> Decimal:
    spec = market.spec
    step = spec.volume_step or CENT
    # Tick values carry a few decimals (0.66666667 for 1/150): a budget of exactly 0.5 lots must not
    # floor to 0.49 for the last digit of a rounded rate.
    # Never more than the broker takes: this also keeps a huge budget within Decimal's precision.
    lots = min(lots, spec.max_volume or LOTS_CEILING)
    lots = lots.quantize(LOT_PRECISION)
    volume = (lots / step).to_integral_value(rounding=ROUND_DOWN) * step
    smallest = spec.min_volume or step
    if volume < smallest:
        cost = cost_of(smallest)
        raise TradeRefused(
            "SIZING_BELOW_MIN_VOLUME",
            FIELD,
            f"even the smallest trade, {smallest} lots of {spec.symbol}, would {what} "
            f"{_money(cost)} {currency}, more than the {_money(budget)} {currency} allowed",
            limit=_money(budget),
            value=_money(cost),
        )
    return volume


def _sized(volume: Decimal, market: SizingMarket, per_lot: Decimal | None) -> Sized:
    if per_lot is None:
        return Sized(volume=volume)
    risk = _money(per_lot * volume)
    equity = market.account.equity
    percent = (risk / equity * 100).quantize(CENT) if equity else None
    return Sized(volume=volume, risk_amount=risk, risk_percent=percent)


def _no_tick_value(market: SizingMarket) -> TradeRefused:
    return TradeRefused(
        "SIZING_NO_TICK_VALUE",
        FIELD,
        f"the value of a tick of {market.spec.symbol} in {market.account.currency} is not known, "
        "so the order cannot be sized by risk or value: send a volume",
    )


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_DOWN)

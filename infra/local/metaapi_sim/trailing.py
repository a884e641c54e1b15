"""MetaApi's `trailingStopLoss` (reference 4.4): its shape, and the stop loss it asks for at a price.

MetaApi manages it on its servers and changes the stop loss at most once per 15 seconds; the simulator
moves it on every evaluation instead, so a test sees the effect of a price move at once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from infra.local.metaapi_sim.symbols import SymbolSpec

# RELATIVE_CURRENCY and RELATIVE_BALANCE_PERCENTAGE exist at MetaApi but are not modelled here.
DISTANCE_UNITS = ("RELATIVE_PRICE", "RELATIVE_POINTS", "RELATIVE_PIPS")
THRESHOLD_UNITS = ("ABSOLUTE_PRICE", *DISTANCE_UNITS)
PRICE_BASES = ("OPEN_PRICE", "CURRENT_PRICE")


class InvalidTrailing(ValueError):
    """A malformed trailingStopLoss; the trade answers TRADE_RETCODE_INVALID with this message."""


def _unit(spec: SymbolSpec, units: str) -> Decimal:
    """The price move one unit of a relative value stands for."""
    return {"RELATIVE_PRICE": Decimal(1), "RELATIVE_POINTS": spec.point, "RELATIVE_PIPS": spec.pip_size}[
        units
    ]


@dataclass(frozen=True)
class DistanceTrail:
    """The stop loss follows the closing price at a fixed distance."""

    distance: Decimal
    units: str

    def stop_loss(self, spec: SymbolSpec, *, is_buy: bool, close_price: Decimal) -> Decimal:
        offset = self.distance * _unit(spec, self.units)
        return close_price - offset if is_buy else close_price + offset

    def to_json(self) -> dict[str, Any]:
        return {"distance": self.distance, "units": self.units}


@dataclass(frozen=True)
class Threshold:
    threshold: Decimal
    stop_loss: Decimal


@dataclass(frozen=True)
class ThresholdTrail:
    """Once the price reaches a threshold, the stop loss moves to that threshold's level.

    Relative thresholds count from the open price in the position's favour. Relative stop losses count
    from the base price in the losing direction, as MetaApi's relative stopLoss does: 0 with OPEN_PRICE
    is break-even and a negative value locks in profit. CURRENT_PRICE is the price at each evaluation.
    """

    thresholds: tuple[Threshold, ...]
    units: str
    stop_price_base: str

    def stop_losses(
        self, spec: SymbolSpec, *, is_buy: bool, open_price: Decimal, close_price: Decimal
    ) -> list[Decimal]:
        """The stop losses of the thresholds the closing price has reached."""
        sign = 1 if is_buy else -1
        base = open_price if self.stop_price_base == "OPEN_PRICE" else close_price
        reached = []
        for step in self.thresholds:
            level, stop = step.threshold, step.stop_loss
            if self.units != "ABSOLUTE_PRICE":
                unit = _unit(spec, self.units)
                level, stop = open_price + sign * level * unit, base - sign * stop * unit
            if (close_price - level) * sign >= 0:
                reached.append(stop)
        return reached

    def to_json(self) -> dict[str, Any]:
        return {
            "thresholds": [{"threshold": t.threshold, "stopLoss": t.stop_loss} for t in self.thresholds],
            "units": self.units,
            "stopPriceBase": self.stop_price_base,
        }


@dataclass(frozen=True)
class Trailing:
    distance: DistanceTrail | None
    threshold: ThresholdTrail | None

    def stop_loss(
        self, spec: SymbolSpec, *, is_buy: bool, open_price: Decimal, close_price: Decimal
    ) -> Decimal | None:
        """The stop loss asked for now: with both kinds, the one closest to the price (MetaApi's rule),
        rounded to the symbol's point away from the price. None while no threshold is reached."""
        candidates = []
        if self.distance is not None:
            candidates.append(self.distance.stop_loss(spec, is_buy=is_buy, close_price=close_price))
        if self.threshold is not None:
            candidates += self.threshold.stop_losses(
                spec, is_buy=is_buy, open_price=open_price, close_price=close_price
            )
        if not candidates:
            return None
        if is_buy:
            return max(candidates).quantize(spec.point, rounding=ROUND_FLOOR)
        return min(candidates).quantize(spec.point, rounding=ROUND_CEILING)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.distance is not None:
            body["distance"] = self.distance.to_json()
        if self.threshold is not None:
            body["threshold"] = self.threshold.to_json()
        return body


def parse_trailing(value: Any, *, is_buy: bool) -> Trailing:
    """A `trailingStopLoss` object for a buy or a sell; raises InvalidTrailing."""
    body = _object(value, "trailingStopLoss", ("distance", "threshold"))
    distance = body.get("distance")
    threshold = body.get("threshold")
    if distance is None and threshold is None:
        raise InvalidTrailing("trailingStopLoss needs a distance or a threshold")
    return Trailing(
        distance=None if distance is None else _distance(distance),
        threshold=None if threshold is None else _thresholds(threshold, is_buy=is_buy),
    )


def _object(value: Any, name: str, fields: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidTrailing(f"{name} must be an object")
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise InvalidTrailing(f"{name} has unknown fields {unknown}; it takes {list(fields)}")
    return value


def _number(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InvalidTrailing(f"{name} must be a number")
    return Decimal(value)


def _positive(value: Any, name: str) -> Decimal:
    number = _number(value, name)
    if number <= 0:
        raise InvalidTrailing(f"{name} must be positive")
    return number


def _choice(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidTrailing(f"{name} must be one of {list(allowed)} in the simulator, not {value!r}")
    return str(value)


def _distance(value: Any) -> DistanceTrail:
    name = "trailingStopLoss.distance"
    body = _object(value, name, ("distance", "units"))
    return DistanceTrail(
        distance=_positive(body.get("distance"), f"{name}.distance"),
        units=_choice(body.get("units", DISTANCE_UNITS[0]), f"{name}.units", DISTANCE_UNITS),
    )


def _thresholds(value: Any, *, is_buy: bool) -> ThresholdTrail:
    name = "trailingStopLoss.threshold"
    body = _object(value, name, ("thresholds", "units", "stopPriceBase"))
    units = _choice(body.get("units", THRESHOLD_UNITS[0]), f"{name}.units", THRESHOLD_UNITS)
    base = _choice(body.get("stopPriceBase", PRICE_BASES[0]), f"{name}.stopPriceBase", PRICE_BASES)
    steps = body.get("thresholds")
    if not isinstance(steps, list) or not steps:
        raise InvalidTrailing(f"{name}.thresholds must be a non-empty array")
    absolute = units == "ABSOLUTE_PRICE"
    thresholds = tuple(_threshold(step, f"{name}.thresholds[{i}]", absolute) for i, step in enumerate(steps))
    # The price reaches a sell's absolute levels from the top down; everything else counts upwards.
    favour = -1 if absolute and not is_buy else 1
    if any((b.threshold - a.threshold) * favour <= 0 for a, b in itertools.pairwise(thresholds)):
        order = "descending" if favour < 0 else "ascending"
        raise InvalidTrailing(f"{name}.thresholds must be strictly {order} by threshold")
    return ThresholdTrail(thresholds, units, base)


def _threshold(value: Any, name: str, absolute: bool) -> Threshold:
    body = _object(value, name, ("threshold", "stopLoss"))
    stop_loss = body.get("stopLoss")
    return Threshold(
        threshold=_positive(body.get("threshold"), f"{name}.threshold"),
        # A relative stop loss may be negative: it then sits beyond its base, on the winning side.
        stop_loss=_positive(stop_loss, f"{name}.stopLoss")
        if absolute
        else _number(stop_loss, f"{name}.stopLoss"),
    )

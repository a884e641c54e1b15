"""Prices: a seeded random walk per symbol, which the admin API can pin for deterministic tests.

Not thread-safe by itself; the simulator calls it under its lock.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from infra.local.metaapi_sim.symbols import SYMBOLS, SymbolSpec

# A long idle gap replays at most this many steps, so a read after hours of silence stays cheap.
MAX_CATCH_UP_STEPS = 300


@dataclass(frozen=True)
class Quote:
    symbol: str
    bid: Decimal
    ask: Decimal
    time: float


class _Walk:
    def __init__(self, spec: SymbolSpec, seed: int, now: float) -> None:
        self.spec = spec
        # One generator per symbol: reading EURUSD never changes where GBPUSD goes next.
        self.rng = random.Random(f"{seed}:{spec.symbol}")  # noqa: S311 - a price walk, not a secret
        self.bid = spec.start_bid
        self.ask = spec.start_bid + spec.spread_points * spec.point
        self.second = int(now)
        self.updated = now
        self.frozen = False

    def advance(self, now: float) -> None:
        steps = min(int(now) - self.second, MAX_CATCH_UP_STEPS)
        if self.frozen or steps <= 0:
            return
        spec = self.spec
        floor = spec.start_bid / 2
        jitter = max(1, spec.spread_points // 5)
        for _ in range(steps):
            move = round(self.rng.gauss(0, spec.volatility_points)) * spec.point
            self.bid = max(self.bid + move, floor)
            spread = max(1, spec.spread_points + self.rng.randint(-jitter, jitter))
            self.ask = self.bid + spread * spec.point
        self.second = int(now)
        self.updated = now

    def quote(self) -> Quote:
        return Quote(self.spec.symbol, self.bid, self.ask, self.updated)


class Market:
    def __init__(self, seed: int, clock: Callable[[], float]) -> None:
        self._clock = clock
        now = clock()
        self._walks = {symbol: _Walk(spec, seed, now) for symbol, spec in SYMBOLS.items()}

    def alias(self, name: str, base: str) -> None:
        """A broker's own name for a symbol quotes as the symbol does."""
        self._walks[name] = self._walks[base]

    def quote(self, symbol: str) -> Quote:
        walk = self._walks[symbol]
        walk.advance(self._clock())
        return walk.quote()

    def rate(self, source: str, target: str) -> Decimal:
        """What one unit of `source` is worth in `target`, at the mid of the forex pair that quotes
        them (or through USD when no pair quotes both)."""
        if source == target:
            return Decimal(1)
        for symbol, spec in SYMBOLS.items():
            if spec.calc_mode != "SYMBOL_CALC_MODE_FOREX":
                continue
            if (spec.base_currency, spec.profit_currency) == (source, target):
                return self._mid(symbol)
            if (spec.base_currency, spec.profit_currency) == (target, source):
                return 1 / self._mid(symbol)
        if "USD" in (source, target):
            raise KeyError(f"no quote turns {source} into {target}")
        return self.rate(source, "USD") * self.rate("USD", target)

    def _mid(self, symbol: str) -> Decimal:
        quote = self.quote(symbol)
        return (quote.bid + quote.ask) / 2

    def pin(self, symbol: str, bid: Decimal, ask: Decimal) -> Quote:
        walk = self._walks[symbol]
        walk.bid, walk.ask, walk.updated, walk.frozen = bid, ask, self._clock(), True
        return walk.quote()

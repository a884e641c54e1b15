"""The broker's symbol catalogue: specifications and trading sessions. Money a symbol makes is in
its profit currency; the terminal converts it to the account's (see `Market.rate`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from infra.local.metaapi_sim.wire import broker_datetime

CURRENCIES = ("USD", "EUR", "JPY")  # what an account may be kept in
DAYS = ("SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY")
WEEKDAYS = DAYS[1:6]
ORDER_TYPES = (
    "SYMBOL_ORDER_MARKET",
    "SYMBOL_ORDER_LIMIT",
    "SYMBOL_ORDER_STOP",
    "SYMBOL_ORDER_STOP_LIMIT",
    "SYMBOL_ORDER_SL",
    "SYMBOL_ORDER_TP",
    "SYMBOL_ORDER_CLOSEBY",
)
EXPIRATION_MODES = (
    "SYMBOL_EXPIRATION_GTC",
    "SYMBOL_EXPIRATION_DAY",
    "SYMBOL_EXPIRATION_SPECIFIED",
    "SYMBOL_EXPIRATION_SPECIFIED_DAY",
)
FILLING_MODES = ("SYMBOL_FILLING_FOK", "SYMBOL_FILLING_IOC")
TRADE_MODES = (
    "SYMBOL_TRADE_MODE_DISABLED",
    "SYMBOL_TRADE_MODE_LONGONLY",
    "SYMBOL_TRADE_MODE_SHORTONLY",
    "SYMBOL_TRADE_MODE_CLOSEONLY",
    "SYMBOL_TRADE_MODE_FULL",
)
END_OF_DAY = "23:59:59.999"

# Day name -> ((from, to), ...) as MetaApi writes them, "hh:mm:ss.SSS" in broker time.
Sessions = dict[str, tuple[tuple[str, str], ...]]


def _sessions(hours: dict[str, tuple[str, str]]) -> Sessions:
    return {day: ((hours[day],) if day in hours else ()) for day in DAYS}


def _same_hours(days: Iterable[str], start: str, end: str) -> dict[str, tuple[str, str]]:
    return dict.fromkeys(days, (start, end))


def _millis(clock: str) -> int:
    hours, minutes, seconds = clock.split(":")
    return (int(hours) * 3600 + int(minutes) * 60) * 1000 + round(float(seconds) * 1000)


FOREX_SESSIONS = _sessions(
    _same_hours(DAYS[1:5], "00:00:00.000", END_OF_DAY) | {"FRIDAY": ("00:00:00.000", "23:55:00.000")}
)


@dataclass(frozen=True)
class SymbolSpec:
    symbol: str
    description: str
    path: str
    digits: int
    contract_size: Decimal
    min_volume: Decimal
    max_volume: Decimal
    volume_step: Decimal
    stops_level: int
    base_currency: str
    profit_currency: str
    calc_mode: str
    pip_size: Decimal
    sessions: Sessions
    swap_long: Decimal
    swap_short: Decimal
    # Where the random walk starts and how it moves, in points.
    start_bid: Decimal
    spread_points: int
    volatility_points: int
    # Broker rules a test can change per simulator through the admin API (see Catalogue).
    trade_mode: str = "SYMBOL_TRADE_MODE_FULL"
    order_types: tuple[str, ...] = ORDER_TYPES
    expiration_modes: tuple[str, ...] = EXPIRATION_MODES
    freeze_level: int = 0

    @property
    def point(self) -> Decimal:
        return Decimal(1).scaleb(-self.digits)

    @property
    def margin_currency(self) -> str:
        return self.base_currency

    def is_open(self, timestamp: float) -> bool:
        moment = broker_datetime(timestamp)
        day = DAYS[(moment.weekday() + 1) % 7]
        now_ms = (moment.hour * 3600 + moment.minute * 60 + moment.second) * 1000 + moment.microsecond // 1000
        return any(_millis(start) <= now_ms <= _millis(end) for start, end in self.sessions[day])

    def valid_volume(self, volume: Decimal) -> bool:
        return self.min_volume <= volume <= self.max_volume and volume % self.volume_step == 0

    def far_enough(self, distance: Decimal) -> bool:
        """MT5's stops level: a stop or pending price exactly stopsLevel points from the market is allowed,
        and even with no stops level it must sit at least one point on its side."""
        return distance >= max(self.stops_level, 1) * self.point

    def frozen(self, distance: Decimal) -> bool:
        """MT5's freeze level: an order or stop within it, or exactly at it, can no longer be changed."""
        return self.freeze_level > 0 and distance <= self.freeze_level * self.point

    def has_digits(self, price: Decimal) -> bool:
        return price == price.quantize(self.point)

    def profit(self, *, is_buy: bool, open_price: Decimal, close_price: Decimal, volume: Decimal) -> Decimal:
        """In the profit currency."""
        move = close_price - open_price if is_buy else open_price - close_price
        return move * volume * self.contract_size

    def margin(self, volume: Decimal, price: Decimal, leverage: int) -> Decimal:
        """In the profit currency: the position's value over the account's leverage."""
        return volume * self.contract_size * price / leverage

    def tick_amount(self) -> Decimal:
        """What one tick is worth for one lot, in the profit currency."""
        return self.point * self.contract_size

    def specification(self) -> dict[str, Any]:
        sessions = {
            day: [{"from": start, "to": end} for start, end in hours] for day, hours in self.sessions.items()
        }
        return {
            "symbol": self.symbol,
            "description": self.description,
            "path": self.path,
            "digits": self.digits,
            "point": self.point,
            "tickSize": self.point,
            "contractSize": self.contract_size,
            "minVolume": self.min_volume,
            "maxVolume": self.max_volume,
            "volumeStep": self.volume_step,
            "stopsLevel": self.stops_level,
            "freezeLevel": self.freeze_level,
            "tradeMode": self.trade_mode,
            "executionMode": "SYMBOL_TRADE_EXECUTION_MARKET",
            "fillingModes": list(FILLING_MODES),
            "allowedOrderTypes": list(self.order_types),
            "allowedExpirationModes": list(self.expiration_modes),
            "orderGTCMode": "SYMBOL_ORDERS_GTC",
            "tradeSessions": sessions,
            "quoteSessions": sessions,
            "marginCurrency": self.margin_currency,
            "profitCurrency": self.profit_currency,
            "baseCurrency": self.base_currency,
            "initialMargin": 0,
            "maintenanceMargin": 0,
            "priceCalculationMode": self.calc_mode,
            "swapMode": "SYMBOL_SWAP_MODE_POINTS",
            "swapLong": self.swap_long,
            "swapShort": self.swap_short,
            "swapRollover3Days": "WEDNESDAY",
            "pipSize": self.pip_size,
        }


def _forex(
    symbol: str, description: str, *, digits: int, start_bid: str, spread: int, volatility: int
) -> SymbolSpec:
    return SymbolSpec(
        symbol=symbol,
        description=description,
        path=f"Forex\\Majors\\{symbol}",
        digits=digits,
        contract_size=Decimal(100000),
        min_volume=Decimal("0.01"),
        max_volume=Decimal(100),
        volume_step=Decimal("0.01"),
        stops_level=10,
        base_currency=symbol[:3],
        profit_currency=symbol[3:],
        calc_mode="SYMBOL_CALC_MODE_FOREX",
        pip_size=Decimal(1).scaleb(1 - digits),
        sessions=FOREX_SESSIONS,
        swap_long=Decimal("-6.97"),
        swap_short=Decimal("1.97"),
        start_bid=Decimal(start_bid),
        spread_points=spread,
        volatility_points=volatility,
    )


SYMBOLS: dict[str, SymbolSpec] = {
    spec.symbol: spec
    for spec in (
        _forex("EURUSD", "Euro vs US Dollar", digits=5, start_bid="1.08500", spread=10, volatility=3),
        _forex(
            "GBPUSD",
            "Great Britain Pound vs US Dollar",
            digits=5,
            start_bid="1.26500",
            spread=12,
            volatility=4,
        ),
        _forex("USDJPY", "US Dollar vs Japanese Yen", digits=3, start_bid="150.000", spread=12, volatility=4),
        # Crosses: traded, and the rates that turn yen and pounds into an account's currency.
        _forex("EURJPY", "Euro vs Japanese Yen", digits=3, start_bid="162.750", spread=15, volatility=5),
        _forex(
            "GBPJPY",
            "Great Britain Pound vs Japanese Yen",
            digits=3,
            start_bid="189.750",
            spread=20,
            volatility=6,
        ),
        _forex(
            "EURGBP", "Euro vs Great Britain Pound", digits=5, start_bid="0.85770", spread=12, volatility=3
        ),
        SymbolSpec(
            symbol="XAUUSD",
            description="Gold vs US Dollar",
            path="Metals\\XAUUSD",
            digits=2,
            contract_size=Decimal(100),
            min_volume=Decimal("0.01"),
            max_volume=Decimal(50),
            volume_step=Decimal("0.01"),
            stops_level=20,
            base_currency="XAU",
            profit_currency="USD",
            calc_mode="SYMBOL_CALC_MODE_CFD",
            pip_size=Decimal("0.1"),
            # Gold pauses for an hour after the broker's midnight.
            sessions=_sessions(
                _same_hours(DAYS[1:5], "01:00:00.000", END_OF_DAY)
                | {"FRIDAY": ("01:00:00.000", "23:55:00.000")}
            ),
            swap_long=Decimal("-45.2"),
            swap_short=Decimal("21.1"),
            start_bid=Decimal("2350.00"),
            spread_points=30,
            volatility_points=30,
        ),
        SymbolSpec(
            symbol="US30",
            description="Dow Jones Industrial Average Index",
            path="Indices\\US30",
            digits=1,
            contract_size=Decimal(1),
            min_volume=Decimal("0.1"),
            max_volume=Decimal(50),
            volume_step=Decimal("0.1"),
            stops_level=50,
            base_currency="USD",
            profit_currency="USD",
            calc_mode="SYMBOL_CALC_MODE_CFDINDEX",
            pip_size=Decimal(1),
            sessions=_sessions(_same_hours(WEEKDAYS, "01:00:00.000", "23:00:00.000")),
            swap_long=Decimal("-31.5"),
            swap_short=Decimal("-12.4"),
            start_bid=Decimal("39000.0"),
            spread_points=20,
            volatility_points=15,
        ),
        SymbolSpec(
            symbol="BTCUSD",
            description="Bitcoin vs US Dollar",
            path="Crypto\\BTCUSD",
            digits=2,
            contract_size=Decimal(1),
            min_volume=Decimal("0.01"),
            max_volume=Decimal(10),
            volume_step=Decimal("0.01"),
            stops_level=500,
            base_currency="BTC",
            profit_currency="USD",
            calc_mode="SYMBOL_CALC_MODE_CFD",
            pip_size=Decimal(1),
            sessions=_sessions(_same_hours(DAYS, "00:00:00.000", END_OF_DAY)),
            swap_long=Decimal("-20"),
            swap_short=Decimal("-20"),
            start_bid=Decimal("67000.00"),
            spread_points=2000,
            volatility_points=1500,
        ),
    )
}


class Catalogue:
    """The symbols one simulator offers: the defaults above, with the admin API's overrides on top.

    Each simulator owns one, so simulators sharing a process never see each other's broker rules.
    Not thread-safe by itself; the simulator calls it under its lock.
    """

    def __init__(self) -> None:
        self._specs = dict(SYMBOLS)
        # A broker's own name for a symbol (`EURUSD.m`, `GOLD`): the same rules and prices.
        self._aliases: dict[str, str] = {}

    def get(self, symbol: str) -> SymbolSpec | None:
        if symbol in self._specs:
            return self._specs[symbol]
        base = self._aliases.get(symbol)
        return None if base is None else dataclasses.replace(self._specs[base], symbol=symbol)

    def __getitem__(self, symbol: str) -> SymbolSpec:
        spec = self.get(symbol)
        if spec is None:
            raise KeyError(symbol)
        return spec

    def alias(self, name: str, base: str) -> None:
        self._aliases[name] = base

    def names(self) -> list[str]:
        return sorted(self._specs)

    def replace(self, spec: SymbolSpec) -> None:
        self._specs[spec.symbol] = spec

    def reset(self, symbol: str) -> None:
        self._specs[symbol] = SYMBOLS[symbol]

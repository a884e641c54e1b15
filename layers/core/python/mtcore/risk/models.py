"""What a trader sets to limit the risk an account takes, how an order may be sized, and what the
account's risk looks like now."""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, field_validator, model_validator

from mtcore.models import CamelModel, JsonDecimal

Percent = Annotated[JsonDecimal, Field(gt=0, le=100, max_digits=8, decimal_places=4)]
Amount = Annotated[JsonDecimal, Field(gt=0, max_digits=20, decimal_places=2)]
Lots = Annotated[JsonDecimal, Field(gt=0, le=1000, max_digits=12, decimal_places=4)]
SymbolName = Annotated[str, Field(pattern=r"^[A-Za-z0-9._#+-]{1,32}$")]
Weekday = Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
WEEKDAYS: tuple[Weekday, ...] = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


class OnBreach(StrEnum):
    HALT = "halt"  # refuse new entries
    FLATTEN = "flatten"  # halt, close every position, cancel every pending order


class LimitModel(CamelModel):
    """A part of the profile: a field it does not know is refused, never ignored (a misspelled
    limit would otherwise limit nothing)."""

    model_config = ConfigDict(extra="forbid")


class DailyLoss(LimitModel):
    """Either an amount in the account's currency or a share of the day's starting equity."""

    amount: Amount | None = None
    percent: Percent | None = None

    @model_validator(mode="after")
    def _one_of_them(self) -> DailyLoss:
        if (self.amount is None) == (self.percent is None):
            raise ValueError("give amount or percent, not both")
        return self


class TradingWindow(LimitModel):
    days: Annotated[list[Weekday], Field(min_length=1, max_length=7)]
    start: time = Field(alias="from", description="HH:MM, inclusive")
    end: time = Field(alias="to", description="HH:MM, exclusive; before `from` it ends the next day")


class TradingWindows(LimitModel):
    """When entries may be made, in one IANA time zone; outside every window they are refused."""

    time_zone: Annotated[str, Field(min_length=1, max_length=64, examples=["Europe/London"])]
    windows: Annotated[list[TradingWindow], Field(min_length=1, max_length=20)]

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone, e.g. Europe/London") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def open_at(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        day, clock = WEEKDAYS[local.weekday()], local.time().replace(tzinfo=None)
        previous = WEEKDAYS[(local.weekday() - 1) % 7]
        for window in self.windows:
            if window.start <= window.end:
                if day in window.days and window.start <= clock < window.end:
                    return True
            elif (day in window.days and clock >= window.start) or (
                previous in window.days and clock < window.end
            ):
                return True
        return False


class RiskProfile(LimitModel):
    """Every limit is optional: one not set does not limit. Closing, reducing and canceling are
    never refused by any of them."""

    max_volume_per_order: Lots | None = None
    max_open_positions: Annotated[int | None, Field(ge=0, le=10_000)] = None
    max_positions_per_symbol: Annotated[int | None, Field(ge=0, le=10_000)] = None
    max_total_volume_per_symbol: Lots | None = None
    max_risk_per_trade_percent: Percent | None = Field(
        default=None, description="Loss at the stop loss, as % of equity"
    )
    require_stop_loss: bool = False
    allowed_symbols: Annotated[list[SymbolName] | None, Field(max_length=500)] = None
    blocked_symbols: Annotated[list[SymbolName] | None, Field(max_length=500)] = None
    trading_windows: TradingWindows | None = None
    max_trades_per_day: Annotated[int | None, Field(ge=0, le=100_000)] = None
    cooldown_after_loss_minutes: Annotated[int | None, Field(ge=1, le=10_080)] = None
    max_daily_loss: DailyLoss | None = None
    max_drawdown_percent: Percent | None = Field(default=None, description="From the equity high-water mark")
    on_breach: OnBreach = OnBreach.HALT
    updated_at: datetime | None = Field(default=None, description="Set when the profile is stored")


class Breach(CamelModel):
    code: str
    message: str
    limit: str
    value: str
    at: datetime = Field(description="When it was found")
    acted_at: datetime | None = Field(default=None, description="When `onBreach` was applied")


class RiskState(CamelModel):
    """What the loss guards keep between evaluations."""

    day: str | None = Field(default=None, description="The broker's trading day, YYYY-MM-DD")
    day_start_equity: JsonDecimal | None = None
    high_water_mark: JsonDecimal | None = None
    breaches: list[Breach] = Field(
        default_factory=list, description="The loss limits breached and not yet recovered, one per code"
    )
    evaluated_at: datetime | None = None


# Sizing -----------------------------------------------------------------------------------------


class FixedSizing(CamelModel):
    mode: Literal["fixed"]
    volume: Lots


class RiskPercentSizing(CamelModel):
    """Lose `percent` of the balance or equity at the stop loss."""

    mode: Literal["risk_percent"]
    percent: Percent
    of: Literal["balance", "equity"] = "equity"


class RiskAmountSizing(CamelModel):
    """Lose `amount` (the account's currency) at the stop loss."""

    mode: Literal["risk_amount"]
    amount: Amount


class MarginPercentSizing(CamelModel):
    """Use `percent` of the free margin as the position's margin."""

    mode: Literal["margin_percent"]
    percent: Percent


class NotionalSizing(CamelModel):
    """A position worth `amount` (the account's currency)."""

    mode: Literal["notional"]
    amount: Amount


Sizing = Annotated[
    FixedSizing | RiskPercentSizing | RiskAmountSizing | MarginPercentSizing | NotionalSizing,
    Field(discriminator="mode"),
]
NEEDS_STOP_LOSS = ("risk_percent", "risk_amount")


class Sized(CamelModel):
    """An order's volume and what it risks at its stop loss (None without one)."""

    volume: JsonDecimal
    risk_amount: JsonDecimal | None = None
    risk_percent: JsonDecimal | None = None

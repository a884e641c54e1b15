"""What a trader sends to place, change and close trades: validated at the API's edge."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from mtcore.metaapi.models import TradeAction
from mtcore.models import CamelModel, JsonDecimal
from mtcore.risk import Sizing
from mtcore.trading.checks import MARKET, PENDING
from mtcore.trading.models import (
    COMMENT_MAX,
    Expiration,
    LevelUnits,
    Price,
    PriceBase,
    SizeAt,
    TrailingStopLoss,
)

SYMBOL = r"^[A-Za-z0-9._#+-]{1,32}$"
Lots = Annotated[JsonDecimal, Field(gt=0, le=1000, max_digits=12, decimal_places=4, description="Lots")]
FillingMode = Literal["ORDER_FILLING_FOK", "ORDER_FILLING_IOC", "ORDER_FILLING_RETURN"]
OrderType = Literal[
    TradeAction.BUY,
    TradeAction.SELL,
    TradeAction.BUY_LIMIT,
    TradeAction.SELL_LIMIT,
    TradeAction.BUY_STOP,
    TradeAction.SELL_STOP,
    TradeAction.BUY_STOP_LIMIT,
    TradeAction.SELL_STOP_LIMIT,
]
_UNITS_HELP = "ABSOLUTE_PRICE (default): a price; RELATIVE_*: a distance from the base price"


class Levels(CamelModel):
    """Stop loss and take profit, as prices or as distances in the given units."""

    stop_loss: Price | None = None
    take_profit: Price | None = None
    stop_loss_units: Annotated[LevelUnits, Field(description=_UNITS_HELP)] = "ABSOLUTE_PRICE"
    take_profit_units: Annotated[LevelUnits, Field(description=_UNITS_HELP)] = "ABSOLUTE_PRICE"
    stop_price_base: PriceBase | None = Field(
        default=None,
        description="What relative levels are measured from: for market orders always the current "
        "price; for pending orders and positions the open price unless CURRENT_PRICE",
    )


class NewOrder(Levels):
    symbol: Annotated[str, Field(pattern=SYMBOL, examples=["EURUSD"])]
    action_type: OrderType
    volume: Lots | None = Field(default=None, description="Lots; or send `sizing` instead")
    sizing: Sizing | None = Field(
        default=None,
        description="How to size the order instead of a volume: fixed, risk_percent, risk_amount, "
        "margin_percent or notional (rounded down to the volume step)",
    )
    size_at: SizeAt = Field(
        default="acceptance",
        description="With sizing: when it is resolved. `execution` sizes the order again right before "
        "it is sent, with the account's money and the price as they are then",
    )
    open_price: Price | None = Field(default=None, description="Pending orders: the trigger price")
    stop_limit_price: Price | None = Field(
        default=None, description="Stop-limit orders: the limit order placed once the open price is reached"
    )
    expiration: Expiration | None = Field(default=None, description="Pending orders; GTC without it")
    trailing_stop_loss: TrailingStopLoss | None = None
    filling_modes: Annotated[list[FillingMode] | None, Field(min_length=1, max_length=3)] = None
    comment: Annotated[str | None, Field(max_length=COMMENT_MAX, pattern=r"^[\x20-\x7e]*$")] = None
    magic_number: Annotated[int | None, Field(ge=0, le=2**31 - 1)] = None
    expires_in_seconds: Annotated[
        int | None,
        Field(ge=1, le=3600, description="Market orders: not sent after this long (default: the account's)"),
    ] = None

    @model_validator(mode="after")
    def _fields_of_the_type(self) -> NewOrder:
        if (self.volume is None) == (self.sizing is None):
            raise ValueError("send volume or sizing, one of them")
        if self.size_at == "execution" and self.sizing is None:
            raise ValueError("sizeAt is for an order sent with sizing")
        is_market = self.action_type in MARKET
        if is_market and (self.open_price, self.stop_limit_price, self.expiration) != (None, None, None):
            raise ValueError("openPrice, stopLimitPrice and expiration are for pending orders only")
        if self.action_type in PENDING and self.open_price is None:
            raise ValueError(f"{self.action_type} needs openPrice")
        is_stop_limit = self.action_type.endswith("STOP_LIMIT")
        if is_stop_limit and self.stop_limit_price is None:
            raise ValueError(f"{self.action_type} needs stopLimitPrice")
        if not is_stop_limit and self.stop_limit_price is not None:
            raise ValueError("stopLimitPrice is for stop-limit orders only")
        if not is_market and self.expires_in_seconds is not None:
            raise ValueError("expiresInSeconds is for market orders; pending orders take expiration")
        if is_market and self.stop_price_base == "OPEN_PRICE":
            raise ValueError("a market order's relative levels are measured from the current price")
        return self


class PositionChanges(Levels):
    """Only the fields sent change; `null` removes a stop loss or take profit."""

    trailing_stop_loss: TrailingStopLoss | None = None

    @model_validator(mode="after")
    def _something(self) -> PositionChanges:
        if not self.model_fields_set & {"stop_loss", "take_profit", "trailing_stop_loss"}:
            raise ValueError("send stopLoss, takeProfit or trailingStopLoss")
        return self


class OrderChanges(Levels):
    """Only the fields sent change; `null` removes a stop loss or take profit."""

    open_price: Price | None = None
    stop_limit_price: Price | None = None
    expiration: Expiration | None = None

    @model_validator(mode="after")
    def _something(self) -> OrderChanges:
        changeable = {"open_price", "stop_limit_price", "stop_loss", "take_profit", "expiration"}
        if not self.model_fields_set & changeable:
            raise ValueError("send openPrice, stopLimitPrice, stopLoss, takeProfit or expiration")
        return self


class CloseBy(CamelModel):
    close_by_position_id: Annotated[
        str, Field(pattern=r"^[0-9A-Za-z_-]{1,64}$", description="The opposite position on the same symbol")
    ]


def given(model: CamelModel, field: str) -> bool:
    return field in model.model_fields_set


def zero_if_none(value: Decimal | None) -> Decimal:
    """MetaTrader removes a stop loss or take profit set to 0."""
    return Decimal(0) if value is None else value

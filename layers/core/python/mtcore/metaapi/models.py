"""MetaApi's payloads, as far as this backend reads them. Unknown fields are ignored; numbers are
parsed as Decimal straight from the JSON text."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mtcore.metaapi.trade_codes import TradeOutcome, classify
from mtcore.models import JsonDecimal


class MetaApiModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True, defer_build=True)


class RemoteAccount(MetaApiModel):
    """A provisioning account record (`GET /users/current/accounts/{id}`)."""

    id: Annotated[str, Field(alias="_id")]
    name: str = ""
    login: str | None = None
    server: str | None = None
    state: str | None = None
    connection_status: Annotated[str | None, Field(alias="connectionStatus")] = None
    region: str | None = None
    version: int | None = None
    platform: str | None = None
    metadata: dict[str, Any] | None = None

    @property
    def platform_name(self) -> str | None:
        if self.platform:
            return self.platform
        return {4: "mt4", 5: "mt5"}.get(self.version or 0)

    @property
    def connected(self) -> bool:
        return self.state == "DEPLOYED" and self.connection_status == "CONNECTED"


class ConfigurationLinkAnswer(MetaApiModel):
    configuration_link: Annotated[str, Field(alias="configurationLink", min_length=1)]


class CreatedAccount(MetaApiModel):
    """What `POST /users/current/accounts` answers once MetaApi has created the account."""

    id: str
    state: str | None = None


class AccountInformation(MetaApiModel):
    platform: str | None = None
    broker: str | None = None
    currency: str | None = None
    server: str | None = None
    balance: Decimal
    equity: Decimal
    margin: Decimal
    free_margin: Annotated[Decimal, Field(alias="freeMargin")]
    leverage: Decimal | None = None
    margin_level: Annotated[Decimal | None, Field(alias="marginLevel")] = None
    margin_mode: Annotated[str | None, Field(alias="marginMode")] = None
    name: str | None = None
    login: int | str | None = None
    trade_allowed: Annotated[bool | None, Field(alias="tradeAllowed")] = None


class Position(MetaApiModel):
    """An open position, in MetaApi's names (it is also what the API answers)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True, serialize_by_alias=True)

    id: str
    type: str
    symbol: str
    magic: int | None = None
    time: datetime
    update_time: Annotated[datetime | None, Field(alias="updateTime")] = None
    open_price: Annotated[JsonDecimal, Field(alias="openPrice")]
    current_price: Annotated[JsonDecimal | None, Field(alias="currentPrice")] = None
    stop_loss: Annotated[JsonDecimal | None, Field(alias="stopLoss")] = None
    take_profit: Annotated[JsonDecimal | None, Field(alias="takeProfit")] = None
    volume: JsonDecimal
    profit: JsonDecimal | None = None
    unrealized_profit: Annotated[JsonDecimal | None, Field(alias="unrealizedProfit")] = None
    realized_profit: Annotated[JsonDecimal | None, Field(alias="realizedProfit")] = None
    swap: JsonDecimal | None = None
    commission: JsonDecimal | None = None
    comment: str | None = None
    client_id: Annotated[str | None, Field(alias="clientId")] = None
    reason: str | None = None
    trailing_stop_loss: Annotated[dict[str, Any] | None, Field(alias="trailingStopLoss")] = None


class Order(MetaApiModel):
    """A pending order, in MetaApi's names (it is also what the API answers)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True, serialize_by_alias=True)

    id: str
    type: str
    state: str | None = None
    symbol: str
    magic: int | None = None
    time: datetime
    open_price: Annotated[JsonDecimal, Field(alias="openPrice")]
    stop_limit_price: Annotated[JsonDecimal | None, Field(alias="stopLimitPrice")] = None
    current_price: Annotated[JsonDecimal | None, Field(alias="currentPrice")] = None
    stop_loss: Annotated[JsonDecimal | None, Field(alias="stopLoss")] = None
    take_profit: Annotated[JsonDecimal | None, Field(alias="takeProfit")] = None
    trailing_stop_loss: Annotated[dict[str, Any] | None, Field(alias="trailingStopLoss")] = None
    volume: JsonDecimal
    current_volume: Annotated[JsonDecimal | None, Field(alias="currentVolume")] = None
    position_id: Annotated[str | None, Field(alias="positionId")] = None
    comment: str | None = None
    client_id: Annotated[str | None, Field(alias="clientId")] = None
    expiration_type: Annotated[str | None, Field(alias="expirationType")] = None
    expiration_time: Annotated[datetime | None, Field(alias="expirationTime")] = None
    filling_mode: Annotated[str | None, Field(alias="fillingMode")] = None


class SymbolPrice(MetaApiModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True, serialize_by_alias=True)

    symbol: str
    bid: JsonDecimal
    ask: JsonDecimal
    profit_tick_value: Annotated[JsonDecimal | None, Field(alias="profitTickValue")] = None
    loss_tick_value: Annotated[JsonDecimal | None, Field(alias="lossTickValue")] = None
    time: datetime | None = None
    broker_time: Annotated[str | None, Field(alias="brokerTime")] = None


class TradeAction(StrEnum):
    """The 15 `actionType`s of `POST /trade`."""

    BUY = "ORDER_TYPE_BUY"
    SELL = "ORDER_TYPE_SELL"
    BUY_LIMIT = "ORDER_TYPE_BUY_LIMIT"
    SELL_LIMIT = "ORDER_TYPE_SELL_LIMIT"
    BUY_STOP = "ORDER_TYPE_BUY_STOP"
    SELL_STOP = "ORDER_TYPE_SELL_STOP"
    BUY_STOP_LIMIT = "ORDER_TYPE_BUY_STOP_LIMIT"
    SELL_STOP_LIMIT = "ORDER_TYPE_SELL_STOP_LIMIT"
    POSITION_MODIFY = "POSITION_MODIFY"
    POSITION_PARTIAL = "POSITION_PARTIAL"
    POSITION_CLOSE_ID = "POSITION_CLOSE_ID"
    POSITION_CLOSE_BY = "POSITION_CLOSE_BY"
    POSITIONS_CLOSE_SYMBOL = "POSITIONS_CLOSE_SYMBOL"
    ORDER_MODIFY = "ORDER_MODIFY"
    ORDER_CANCEL = "ORDER_CANCEL"


# MetaApi keeps clientId inside the MetaTrader comment; 26 ASCII characters together is the
# limit every platform version accepts.
COMMENT_AND_CLIENT_ID_MAX = 26


class MetaApiTrade(MetaApiModel):
    """A `POST /trade` body. Only fields that are set are sent."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, serialize_by_alias=True)

    action_type: Annotated[TradeAction, Field(alias="actionType")]
    symbol: str | None = None
    volume: JsonDecimal | None = None
    open_price: Annotated[JsonDecimal | None, Field(alias="openPrice")] = None
    stop_limit_price: Annotated[JsonDecimal | None, Field(alias="stopLimitPrice")] = None
    stop_loss: Annotated[JsonDecimal | None, Field(alias="stopLoss")] = None
    take_profit: Annotated[JsonDecimal | None, Field(alias="takeProfit")] = None
    stop_loss_units: Annotated[str | None, Field(alias="stopLossUnits")] = None
    take_profit_units: Annotated[str | None, Field(alias="takeProfitUnits")] = None
    order_id: Annotated[str | None, Field(alias="orderId")] = None
    position_id: Annotated[str | None, Field(alias="positionId")] = None
    close_by_position_id: Annotated[str | None, Field(alias="closeByPositionId")] = None
    comment: str | None = None
    client_id: Annotated[str | None, Field(alias="clientId")] = None
    magic: int | None = None
    slippage: JsonDecimal | None = None
    filling_modes: Annotated[list[str] | None, Field(alias="fillingModes")] = None
    expiration: dict[str, Any] | None = None
    trailing_stop_loss: Annotated[dict[str, Any] | None, Field(alias="trailingStopLoss")] = None

    @model_validator(mode="after")
    def _comment_fits_beside_client_id(self) -> MetaApiTrade:
        together = (self.comment or "") + (self.client_id or "")
        if not together.isascii():
            raise ValueError("comment and clientId must be ASCII")
        if len(together) > COMMENT_AND_CLIENT_ID_MAX:
            raise ValueError(
                f"comment and clientId together must be at most {COMMENT_AND_CLIENT_ID_MAX} characters"
            )
        return self


class TradeResult(MetaApiModel):
    """MetaApi's trade answer, with what it means for the caller."""

    numeric_code: Annotated[int | None, Field(alias="numericCode")] = None
    string_code: Annotated[str | None, Field(alias="stringCode")] = None
    message: str | None = None
    order_id: Annotated[str | None, Field(alias="orderId")] = None
    position_id: Annotated[str | int | None, Field(alias="positionId")] = None

    @property
    def outcome(self) -> TradeOutcome:
        return classify(self.numeric_code, self.string_code)


class SymbolSpecification(MetaApiModel):
    """A symbol's trading rules. The fields checks rely on are typed; the rest pass through."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True, serialize_by_alias=True)

    symbol: str
    description: str | None = None
    digits: int | None = None
    point: JsonDecimal | None = None
    tick_size: Annotated[JsonDecimal | None, Field(alias="tickSize")] = None
    contract_size: Annotated[JsonDecimal | None, Field(alias="contractSize")] = None
    min_volume: Annotated[JsonDecimal | None, Field(alias="minVolume")] = None
    max_volume: Annotated[JsonDecimal | None, Field(alias="maxVolume")] = None
    volume_step: Annotated[JsonDecimal | None, Field(alias="volumeStep")] = None
    stops_level: Annotated[int | None, Field(alias="stopsLevel")] = None
    freeze_level: Annotated[int | None, Field(alias="freezeLevel")] = None
    trade_mode: Annotated[str | None, Field(alias="tradeMode")] = None
    pip_size: Annotated[JsonDecimal | None, Field(alias="pipSize")] = None
    allowed_order_types: Annotated[list[str] | None, Field(alias="allowedOrderTypes")] = None
    allowed_expiration_modes: Annotated[list[str] | None, Field(alias="allowedExpirationModes")] = None
    filling_modes: Annotated[list[str] | None, Field(alias="fillingModes")] = None
    trade_sessions: Annotated[dict[str, list[dict[str, str]]] | None, Field(alias="tradeSessions")] = None

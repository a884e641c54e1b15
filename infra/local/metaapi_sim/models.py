"""The terminal's records (positions, orders, deals) and their MetaApi JSON shapes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from infra.local.metaapi_sim.market import Quote
from infra.local.metaapi_sim.trailing import Trailing
from infra.local.metaapi_sim.wire import broker_day_end, broker_time, iso

BUY_ORDER_TYPES = frozenset(
    {"ORDER_TYPE_BUY", "ORDER_TYPE_BUY_LIMIT", "ORDER_TYPE_BUY_STOP", "ORDER_TYPE_BUY_STOP_LIMIT"}
)
LIMIT_ORDER_TYPES = frozenset({"ORDER_TYPE_BUY_LIMIT", "ORDER_TYPE_SELL_LIMIT"})
STOP_LIMIT_ORDER_TYPES = frozenset({"ORDER_TYPE_BUY_STOP_LIMIT", "ORDER_TYPE_SELL_STOP_LIMIT"})


def price_distance(order_type: str, price: Decimal, quote: Quote) -> Decimal:
    """How far a pending order's price is from the market, on the side the order watches (the ask for
    buys, the bid for sells): positive while it waits, zero or less once the market has reached it.
    Limits wait for a better price than the market's, stops (and stop-limits) for a worse one."""
    is_buy = order_type in BUY_ORDER_TYPES
    market = quote.ask if is_buy else quote.bid
    sign = 1 if is_buy == (order_type in LIMIT_ORDER_TYPES) else -1
    return (market - price) * sign


def stop_distance(*, is_buy: bool, reference: Decimal, level: Decimal, stop_loss: bool) -> Decimal:
    """How far a position's stop loss (or take profit) is from the closing price `reference`, on its own
    side: positive while it waits, zero or less once the price has reached it."""
    sign = 1 if is_buy == stop_loss else -1
    return (reference - level) * sign


def _optional(body: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body.update({name: value for name, value in fields.items() if value is not None})
    return body


@dataclass
class Position:
    id: str
    is_buy: bool
    symbol: str
    magic: int
    time: float
    update_time: float
    open_price: Decimal
    volume: Decimal
    stop_loss: Decimal | None
    take_profit: Decimal | None
    comment: str | None
    client_id: str | None
    origin: str  # EXPERT (placed through the API) or CLIENT (by hand)
    realized_profit: Decimal = Decimal(0)
    trailing: Trailing | None = None

    def to_json(self, *, current_price: Decimal, tick_value: Decimal, unrealized: Decimal) -> dict[str, Any]:
        body = {
            "id": self.id,
            "type": "POSITION_TYPE_BUY" if self.is_buy else "POSITION_TYPE_SELL",
            "symbol": self.symbol,
            "magic": self.magic,
            "time": iso(self.time),
            "brokerTime": broker_time(self.time),
            "updateTime": iso(self.update_time),
            "openPrice": self.open_price,
            "currentPrice": current_price,
            "currentTickValue": tick_value,
            "volume": self.volume,
            "profit": unrealized + self.realized_profit,
            "unrealizedProfit": unrealized,
            "realizedProfit": self.realized_profit,
            "swap": 0,
            "commission": 0,
            "reason": f"POSITION_REASON_{self.origin}",
        }
        return _optional(
            body,
            stopLoss=self.stop_loss,
            takeProfit=self.take_profit,
            trailingStopLoss=None if self.trailing is None else self.trailing.to_json(),
            comment=self.comment,
            clientId=self.client_id,
        )


@dataclass
class Order:
    id: str
    type: str
    state: str
    symbol: str
    magic: int
    time: float
    open_price: Decimal
    volume: Decimal
    current_volume: Decimal
    platform: str
    origin: str
    filling_mode: str
    expiration_type: str = "ORDER_TIME_GTC"
    expiration_time: float | None = None
    stop_limit_price: Decimal | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    comment: str | None = None
    client_id: str | None = None
    position_id: str | None = None
    close_by_position_id: str | None = None
    done_time: float | None = None
    trailing: Trailing | None = None

    @property
    def is_buy(self) -> bool:
        return self.type in BUY_ORDER_TYPES

    @property
    def expires_at(self) -> float | None:
        """When a pending order expires: DAY at the end of the broker day it was placed, SPECIFIED_DAY at
        the end of the day of its expiration time, SPECIFIED at that time, GTC never."""
        if self.expiration_type == "ORDER_TIME_DAY":
            return broker_day_end(self.time)
        if self.expiration_type == "ORDER_TIME_SPECIFIED_DAY" and self.expiration_time is not None:
            return broker_day_end(self.expiration_time)
        return self.expiration_time

    def to_json(self, *, current_price: Decimal | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "state": self.state,
            "symbol": self.symbol,
            "magic": self.magic,
            "time": iso(self.time),
            "brokerTime": broker_time(self.time),
            "openPrice": self.open_price,
            "volume": self.volume,
            "currentVolume": self.current_volume,
            "platform": self.platform,
            "reason": f"ORDER_REASON_{self.origin}",
            "fillingMode": self.filling_mode,
            "expirationType": self.expiration_type,
        }
        return _optional(
            body,
            currentPrice=current_price,
            stopLimitPrice=self.stop_limit_price,
            stopLoss=self.stop_loss,
            takeProfit=self.take_profit,
            trailingStopLoss=None if self.trailing is None else self.trailing.to_json(),
            comment=self.comment,
            clientId=self.client_id,
            positionId=self.position_id,
            closeByPositionId=self.close_by_position_id,
            expirationTime=None if self.expiration_time is None else iso(self.expiration_time),
            doneTime=None if self.done_time is None else iso(self.done_time),
            doneBrokerTime=None if self.done_time is None else broker_time(self.done_time),
        )


@dataclass(frozen=True)
class Deal:
    id: str
    type: str
    entry_type: str
    time: float
    profit: Decimal
    platform: str
    symbol: str | None = None
    magic: int | None = None
    volume: Decimal | None = None
    price: Decimal | None = None
    position_id: str | None = None
    order_id: str | None = None
    comment: str | None = None
    client_id: str | None = None
    origin: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "entryType": self.entry_type,
            "time": iso(self.time),
            "brokerTime": broker_time(self.time),
            "profit": self.profit,
            "commission": 0,
            "swap": 0,
            "platform": self.platform,
        }
        return _optional(
            body,
            symbol=self.symbol,
            magic=self.magic,
            volume=self.volume,
            price=self.price,
            positionId=self.position_id,
            orderId=self.order_id,
            comment=self.comment,
            clientId=self.client_id,
            reason=None if self.origin is None else f"DEAL_REASON_{self.origin}",
        )

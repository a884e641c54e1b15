"""What the dashboard's WebSocket carries: frames from the server, actions from the client."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field

from mtcore.models import CamelModel

# Symbols a connection may watch on one account, and accounts it may name in one subscription.
MAX_SYMBOLS = 20
SYMBOL = r"^[A-Za-z0-9._#+-]{1,32}$"


class FrameType(StrEnum):
    TRADE = "mt:trade"
    POSITION = "mt:position"
    ORDER = "mt:order"
    ACCOUNT = "mt:account"
    SYNC = "mt:sync"
    RISK = "mt:risk"
    ERROR = "mt:error"
    PRICE = "mt:price"
    # Answers to the client's own actions.
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    PONG = "pong"
    REFUSED = "error"


# The bus's detail types, as the dashboard's frames name them.
_FRAME_OF_DETAIL = {
    "PositionOpened": FrameType.POSITION,
    "PositionModified": FrameType.POSITION,
    "PositionClosed": FrameType.POSITION,
    "OrderPlaced": FrameType.ORDER,
    "OrderFilled": FrameType.ORDER,
    "OrderCanceled": FrameType.ORDER,
    "AccountUpdated": FrameType.ACCOUNT,
    "AccountDisconnected": FrameType.ACCOUNT,
    "AccountReady": FrameType.ACCOUNT,
    "AccountUndeployed": FrameType.ACCOUNT,
    "AccountProvisioningFailed": FrameType.ERROR,
    "SyncFailed": FrameType.SYNC,
    "RiskLimitBreached": FrameType.RISK,
    "AccountHalted": FrameType.RISK,
    "AccountResumed": FrameType.RISK,
}


def frame_type_of(detail_type: str) -> FrameType | None:
    """Every `Trade…` event is an `mt:trade`; the rest as mapped; None for what is not pushed."""
    if detail_type.startswith("Trade"):
        return FrameType.TRADE
    return _FRAME_OF_DETAIL.get(detail_type)


class Frame(CamelModel):
    """One message to the dashboard. Pushed events carry an `eventId` that sorts in time: a client
    that reconnects asks `GET /api/metatrader/events?after=<the last one it saw>`."""

    type: FrameType
    event_id: str | None = Field(default=None, description="Time-ordered; kept 24 h for /events")
    detail_type: str | None = Field(default=None, description="The event, e.g. TradeExecuted")
    account_id: str | None = None
    time: datetime
    data: dict[str, Any] = Field(default_factory=dict)


class Subscribe(CamelModel):
    action: Literal["subscribe"]
    account_id: Annotated[str, Field(min_length=1, max_length=64)]
    symbols: Annotated[list[Annotated[str, Field(pattern=SYMBOL)]], Field(max_length=MAX_SYMBOLS)] = Field(
        default_factory=list, description="Live prices of these symbols on the account (mt:price)"
    )


class Unsubscribe(CamelModel):
    action: Literal["unsubscribe"]
    account_id: Annotated[str | None, Field(min_length=1, max_length=64)] = Field(
        default=None, description="Without it, every subscription: all the caller's accounts again"
    )


class Ping(CamelModel):
    action: Literal["ping"]


class EventPage(CamelModel):
    """The caller's events after an event id, oldest first (kept 24 hours)."""

    items: list[Frame]
    next_token: str | None = Field(default=None, description="Pass as nextToken to read the next page")

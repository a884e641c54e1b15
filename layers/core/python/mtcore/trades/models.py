"""A trade request and its statuses. Every transition is recorded, with its time and reason."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from mtcore.ids import new_ulid
from mtcore.metaapi.models import TradeAction
from mtcore.models import CamelModel, JsonDecimal


class TradeStatus(StrEnum):
    QUEUED = "QUEUED"
    WAITING = "WAITING"  # parked until notBefore (a longer retry wait)
    SENDING = "SENDING"  # POST /trade may have reached the broker: only a reconciliation may resend
    PLACED = "PLACED"
    EXECUTED = "EXECUTED"
    PARTIAL = "PARTIAL"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    CANCELED = "CANCELED"
    UNKNOWN = "UNKNOWN"  # the broker could not tell us; sync resolves it later
    FAILED = "FAILED"


# Statuses the executor never leaves: no further send can happen from any of them.
SETTLED = frozenset(
    {
        TradeStatus.PLACED,
        TradeStatus.EXECUTED,
        TradeStatus.PARTIAL,
        TradeStatus.REJECTED,
        TradeStatus.EXPIRED,
        TradeStatus.CANCELED,
        TradeStatus.UNKNOWN,
        TradeStatus.FAILED,
    }
)
SENDABLE = frozenset({TradeStatus.QUEUED, TradeStatus.WAITING})


class TradeKind(StrEnum):
    OPEN = "open"  # a market order that opens a position
    CLOSE = "close"  # closing a position, fully or in part
    CLOSE_ALL = "close_all"  # a parent: one CLOSE child per position; it settles from them


class Transition(CamelModel):
    status: TradeStatus
    at: datetime
    note: str | None = None


class BrokerAnswer(CamelModel):
    numeric_code: int | None = None
    string_code: str | None = None
    message: str | None = None
    order_id: str | None = None
    position_id: str | None = None


# clientId ("T" + 9 characters of the ULID's random part) leaves 16 characters for the comment
# within MetaApi's 26.
CLIENT_ID_LENGTH = 10
COMMENT_MAX = 16


def client_id_of(request_id: str) -> str:
    return "T" + request_id[-(CLIENT_ID_LENGTH - 1) :]


class TradeRequest(CamelModel):
    id: str = Field(default_factory=new_ulid)
    account_id: str
    user_id: Annotated[str, Field(exclude=True)]
    kind: TradeKind
    action: TradeAction
    symbol: str | None = None
    volume: JsonDecimal | None = None
    stop_loss: JsonDecimal | None = None
    take_profit: JsonDecimal | None = None
    comment: Annotated[str | None, Field(max_length=COMMENT_MAX, pattern=r"^[\x20-\x7e]*$")] = None
    magic: int | None = None
    position_id: str | None = None
    # For closes: the position's volume when the request was made, to tell a partial close later.
    position_volume: JsonDecimal | None = None
    children: list[str] | None = Field(default=None, description="For close_all: the child requests")
    slippage_points: int | None = None
    client_id: str = ""
    status: TradeStatus = TradeStatus.QUEUED
    attempts: int = 0
    expires_at: datetime | None = None
    not_before: datetime | None = None
    broker: BrokerAnswer | None = None
    executed_price: JsonDecimal | None = None
    reason: str | None = None
    timeline: list[Transition] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime

    def model_post_init(self, _context: object) -> None:
        if not self.client_id:
            self.client_id = client_id_of(self.id)
        if not self.timeline:
            self.timeline.append(Transition(status=self.status, at=self.created_at, note="accepted"))

"""A trade request and its statuses. Every transition is recorded, with its time and reason."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, model_validator

from mtcore.ids import new_ulid
from mtcore.metaapi.models import TradeAction
from mtcore.models import CamelModel, JsonDecimal
from mtcore.risk import Lots, Sizing, SymbolName


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
    UNKNOWN = "UNKNOWN"  # the broker could not tell us after several looks; sync resolves it later
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
# Not settled yet: the executor still has it, and may be sending it right now.
IN_FLIGHT = frozenset({*SENDABLE, TradeStatus.SENDING})


class TradeKind(StrEnum):
    OPEN = "open"  # a market order that opens a position
    PLACE = "place"  # a pending order (limit, stop, stop-limit)
    CLOSE = "close"  # closing a position, fully or in part
    CLOSE_BY = "close_by"  # closing a position by an opposite one (hedging accounts)
    CLOSE_ALL = "close_all"  # a parent: one CLOSE child per position; it settles from them
    FLATTEN = "flatten"  # a parent: a CLOSE child per position and a CANCEL child per pending order
    SIGNAL = "signal"  # a parent: a webhook alert's command, resolved into children when executed
    MODIFY_POSITION = "modify_position"  # a position's stop loss, take profit, trailing stop
    MODIFY_ORDER = "modify_order"  # a pending order's price, stop loss, take profit, expiration
    CANCEL = "cancel"  # a pending order removed


# Kinds that create something at the broker, found again by their clientId.
OPENING = frozenset({TradeKind.OPEN, TradeKind.PLACE})
# Kinds that never reach the broker themselves: they settle from their children.
PARENTS = frozenset({TradeKind.CLOSE_ALL, TradeKind.FLATTEN, TradeKind.SIGNAL})


Price = Annotated[JsonDecimal, Field(gt=0, max_digits=20, decimal_places=10)]
LevelUnits = Literal["ABSOLUTE_PRICE", "RELATIVE_PRICE", "RELATIVE_POINTS", "RELATIVE_PIPS"]
DistanceUnits = Literal["RELATIVE_PRICE", "RELATIVE_POINTS", "RELATIVE_PIPS"]
PriceBase = Literal["CURRENT_PRICE", "OPEN_PRICE"]


class TrailingDistance(CamelModel):
    distance: Price
    units: DistanceUnits = "RELATIVE_PRICE"


class TrailingThreshold(CamelModel):
    threshold: Price = Field(description="When the price passes this level…")
    stop_loss: Price = Field(description="…the stop loss moves to this one")


class TrailingThresholds(CamelModel):
    thresholds: Annotated[list[TrailingThreshold], Field(min_length=1, max_length=20)]
    units: LevelUnits = "ABSOLUTE_PRICE"
    stop_price_base: PriceBase = "OPEN_PRICE"


class TrailingStopLoss(CamelModel):
    """MetaApi's server-side trailing stop: a distance that follows the price, thresholds that
    move the stop loss in steps, or both (the closer to the price wins)."""

    distance: TrailingDistance | None = None
    threshold: TrailingThresholds | None = None

    @model_validator(mode="after")
    def _one_of_them(self) -> TrailingStopLoss:
        if self.distance is None and self.threshold is None:
            raise ValueError("give distance, threshold or both")
        return self

    def to_metaapi(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class Expiration(CamelModel):
    """When a pending order expires: MetaApi's `expiration` object."""

    type: Literal["ORDER_TIME_GTC", "ORDER_TIME_DAY", "ORDER_TIME_SPECIFIED", "ORDER_TIME_SPECIFIED_DAY"] = (
        "ORDER_TIME_GTC"
    )
    time: AwareDatetime | None = Field(
        default=None, description="For ORDER_TIME_SPECIFIED(_DAY): when, with its time zone"
    )


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


# When an order's sizing is resolved: when it is accepted, or again right before it is sent.
SizeAt = Literal["acceptance", "execution"]


class Command(StrEnum):
    """What a webhook alert asks for (PineConnector's words)."""

    BUY = "buy"
    SELL = "sell"
    BUY_LIMIT = "buylimit"
    SELL_LIMIT = "selllimit"
    BUY_STOP = "buystop"
    SELL_STOP = "sellstop"
    CLOSE_LONG = "closelong"
    CLOSE_SHORT = "closeshort"
    CLOSE_ALL = "closeall"
    CANCEL_LONG = "cancellong"
    CANCEL_SHORT = "cancelshort"
    NEW_SLTP_LONG = "newsltplong"
    NEW_SLTP_SHORT = "newsltpshort"


PENDING_COMMANDS = frozenset({Command.BUY_LIMIT, Command.SELL_LIMIT, Command.BUY_STOP, Command.SELL_STOP})
ENTRY_COMMANDS = frozenset({Command.BUY, Command.SELL, *PENDING_COMMANDS})
SLTP_COMMANDS = frozenset({Command.NEW_SLTP_LONG, Command.NEW_SLTP_SHORT})
LONG_COMMANDS = frozenset(
    {
        Command.BUY,
        Command.BUY_LIMIT,
        Command.BUY_STOP,
        Command.CLOSE_LONG,
        Command.CANCEL_LONG,
        Command.NEW_SLTP_LONG,
    }
)


class AlertCommand(CamelModel):
    """One command of an alert, in the order API's terms (levels in their units)."""

    command: Command
    symbol: SymbolName
    volume: Lots | None = None
    sizing: Sizing | None = None
    risk: Annotated[JsonDecimal | None, Field(gt=0, le=100_000)] = Field(
        default=None, description="PineConnector's risk=, read through the webhook's sizing mode"
    )
    open_price: Price | None = None
    stop_loss: Price | None = None
    take_profit: Price | None = None
    stop_loss_units: LevelUnits | None = None
    take_profit_units: LevelUnits | None = None
    comment: Annotated[str | None, Field(max_length=COMMENT_MAX, pattern=r"^[\x20-\x7e]*$")] = None
    max_spread_pips: Annotated[JsonDecimal | None, Field(gt=0, le=10_000)] = None

    @property
    def is_long(self) -> bool:
        return self.command in LONG_COMMANDS

    @property
    def both_sides(self) -> bool:
        return self.command is Command.CLOSE_ALL


class SignalOrder(CamelModel):
    """What a webhook's alert asks of one account, resolved on it when the executor reaches it:
    the symbol as the account's broker names it, the volume from its money then, its risk rules."""

    webhook_id: str
    signal_id: str = Field(description="The signal log's id")
    command: AlertCommand = Field(
        description="Sizing and levels already resolved with the webhook's defaults"
    )
    symbol_map: dict[str, str] | None = None
    pyramiding: bool = True
    close_opposite: bool = False
    shadow: bool = False
    entry_after: list[str] | None = Field(
        default=None, description="The closes of the opposite side an entry waits for"
    )


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
    requested_volume: JsonDecimal | None = Field(
        default=None, description="The volume asked for, when the broker's volume step changed it"
    )
    open_price: JsonDecimal | None = None
    stop_limit_price: JsonDecimal | None = None
    expiration: Expiration | None = None
    trailing_stop_loss: TrailingStopLoss | None = None
    filling_modes: list[str] | None = None
    order_id: str | None = None
    position_id: str | None = None
    close_by_position_id: str | None = None
    # For closes: the positions' volumes when the request was made, to tell later what happened.
    position_volume: JsonDecimal | None = None
    close_by_volume: JsonDecimal | None = None
    children: list[str] | None = Field(
        default=None, description="For close_all, flatten and signal: the child requests"
    )
    signal: SignalOrder | None = Field(default=None, description="For signal: the webhook alert's command")
    max_slippage_points: int | None = Field(default=None, description="Sent with market orders")
    client_id: str = ""
    status: TradeStatus = TradeStatus.QUEUED
    attempts: int = 0
    looks: int = Field(default=0, description="Looks at the broker that could not tell what a send did")
    expires_at: datetime | None = None
    not_before: datetime | None = None
    broker: BrokerAnswer | None = None
    sizing: Sizing | None = Field(default=None, description="How the volume was sized, when it was")
    size_at: SizeAt | None = Field(
        default=None, description="`execution`: sized again right before the send, its volume then"
    )
    risk_amount: JsonDecimal | None = Field(
        default=None, description="Money lost at the stop loss, in the account's currency"
    )
    risk_percent: JsonDecimal | None = Field(
        default=None, description="Money lost at the stop loss, % of equity"
    )
    requested_price: JsonDecimal | None = Field(
        default=None, description="Market orders: the price quoted when the order was accepted"
    )
    executed_price: JsonDecimal | None = None
    pip_size: JsonDecimal | None = None
    slippage_pips: JsonDecimal | None = Field(
        default=None, description="Executed against requested price, in pips; positive is worse"
    )
    reason: str | None = None
    code: str | None = Field(
        default=None, description="Why it was refused before being sent, by the rule's code (RISK_HALTED)"
    )
    timeline: list[Transition] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime

    def model_post_init(self, _context: object) -> None:
        if not self.client_id:
            self.client_id = client_id_of(self.id)
        if not self.timeline:
            self.timeline.append(Transition(status=self.status, at=self.created_at, note="accepted"))

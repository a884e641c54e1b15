"""Notification preferences, and what the notification routes take and answer."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field

from mtcore.models import CamelModel

EMAIL = r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{2,63}$"


class Channel(StrEnum):
    TELEGRAM = "telegram"
    EMAIL = "email"


class Kind(StrEnum):
    """What a trader can be told about, each switched on per channel."""

    TRADE_EXECUTED = "tradeExecuted"
    TRADE_REJECTED = "tradeRejected"
    TRADE_UNKNOWN = "tradeUnknown"
    POSITION_CLOSED = "positionClosed"
    STOP_LOSS_HIT = "stopLossHit"
    TAKE_PROFIT_HIT = "takeProfitHit"
    RISK_BREACHED = "riskBreached"
    ACCOUNT_HALTED = "accountHalted"
    ACCOUNT_DISCONNECTED = "accountDisconnected"
    SYNC_FAILED = "syncFailed"
    SIGNAL_REJECTED = "signalRejected"
    DAILY_SUMMARY = "dailySummary"


_BOTH = [Channel.TELEGRAM, Channel.EMAIL]
# Errors, risk and disconnects on both channels; every fill and close on Telegram only.
DEFAULT_EVENTS: dict[Kind, list[Channel]] = {
    Kind.TRADE_EXECUTED: [Channel.TELEGRAM],
    Kind.TRADE_REJECTED: _BOTH,
    Kind.TRADE_UNKNOWN: _BOTH,
    Kind.POSITION_CLOSED: [Channel.TELEGRAM],
    Kind.STOP_LOSS_HIT: [Channel.TELEGRAM],
    Kind.TAKE_PROFIT_HIT: [Channel.TELEGRAM],
    Kind.RISK_BREACHED: _BOTH,
    Kind.ACCOUNT_HALTED: _BOTH,
    Kind.ACCOUNT_DISCONNECTED: _BOTH,
    Kind.SYNC_FAILED: _BOTH,
    Kind.SIGNAL_REJECTED: _BOTH,
    Kind.DAILY_SUMMARY: [Channel.EMAIL],
}


class TelegramSettings(CamelModel):
    enabled: bool = True
    linked: bool = Field(
        default=False, description="Whether a Telegram chat is linked (POST …/telegram/link); read-only"
    )


class EmailSettings(CamelModel):
    enabled: bool = False
    address: Annotated[str | None, Field(pattern=EMAIL, max_length=254)] = None


class Preferences(CamelModel):
    """Where each kind of event is sent; a channel sends only when it is enabled (and, for
    Telegram, linked; for email, given an address)."""

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    events: dict[Kind, list[Channel]] = Field(default_factory=lambda: dict(DEFAULT_EVENTS))

    def channels_for(self, kind: Kind) -> list[Channel]:
        chosen = self.events.get(kind, DEFAULT_EVENTS[kind])
        enabled = {Channel.TELEGRAM: self.telegram.enabled, Channel.EMAIL: self.email.enabled}
        return [channel for channel in chosen if enabled[channel]]


class TelegramChange(CamelModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = None


class EmailChange(CamelModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = None
    address: Annotated[str | None, Field(pattern=EMAIL, max_length=254)] = None


class PreferencesChange(CamelModel):
    """`PUT /settings/notifications`: what is sent replaces what was; what is not sent stays."""

    model_config = ConfigDict(extra="forbid")
    telegram: TelegramChange | None = None
    email: EmailChange | None = None
    events: Annotated[dict[Kind, Annotated[list[Channel], Field(max_length=2)]] | None, Field()] = None


class TelegramLink(CamelModel):
    code: str = Field(description="One-time: the bot binds the chat that sends /start <code>")
    link: str = Field(description="Opens the bot in Telegram with the code already typed")
    expires_at: datetime


class ChannelResult(CamelModel):
    channel: Channel
    sent: bool
    detail: str = Field(description="What the channel said, or why nothing was sent")


class TestResult(CamelModel):
    results: list[ChannelResult]

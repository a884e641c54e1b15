"""Webhooks and the signals they receive: what a trader configures, what an alert asks for, and
what the signal log keeps of every request."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator

from mtcore.models import CamelModel, JsonDecimal
from mtcore.risk import FixedSizing, Sizing, SymbolName
from mtcore.trading import AlertCommand, Command, LevelUnits, Price

TRADINGVIEW = "tradingview"
# TradingView's published webhook senders (IPv4 only).
TRADINGVIEW_IPS = ("52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7")
MAX_ACCOUNTS = 20
DEFAULT_VOLUME = Decimal("0.01")


class WebhookAuth(CamelModel):
    """Checks on top of the secret: where the request comes from, and a signature over its body
    for senders that can sign (TradingView cannot)."""

    model_config = ConfigDict(extra="forbid")  # a misspelled check is refused, never silently off

    allowed_ips: Annotated[
        Literal["tradingview"] | Annotated[list[str], Field(min_length=1, max_length=50)] | None,
        Field(description='"tradingview" (its four published addresses) or addresses and CIDR ranges'),
    ] = None
    hmac: bool = Field(
        default=False,
        description="Require X-Signature: hex HMAC-SHA256, keyed by the secret, of `<X-Timestamp>.<body>`",
    )
    max_age_seconds: Annotated[int, Field(ge=5, le=600, description="How old X-Timestamp may be")] = 30

    @field_validator("allowed_ips")
    @classmethod
    def _networks(cls, value: str | list[str] | None) -> str | list[str] | None:
        import ipaddress

        if isinstance(value, list):
            for entry in value:
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(f"{entry!r} is not an IP address or CIDR range") from None
        return value


class WebhookSettings(CamelModel):
    """What a trader sets on a webhook (the body of POST and PUT)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=64)]
    account_ids: Annotated[
        list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=MAX_ACCOUNTS)
    ]
    sizing: Sizing = Field(
        default_factory=lambda: FixedSizing(mode="fixed", volume=DEFAULT_VOLUME),
        description="How each account sizes an entry, from its own money at send time (default fixed 0.01)",
    )
    stop_loss: Price | None = Field(default=None, description="Default stop loss when an alert sends none")
    take_profit: Price | None = None
    stop_loss_units: LevelUnits = "RELATIVE_PIPS"
    take_profit_units: LevelUnits = "RELATIVE_PIPS"
    symbol_map: Annotated[dict[SymbolName, SymbolName] | None, Field(max_length=200)] = Field(
        default=None,
        description='Alert symbol -> broker symbol, before any automatic matching: {"XAUUSD": "GOLD"}',
    )
    allowed_symbols: Annotated[list[SymbolName] | None, Field(max_length=500)] = Field(
        default=None, description="Alert symbols this webhook takes; others are refused"
    )
    close_opposite: bool = Field(default=False, description="Close the opposite side before an entry")
    pyramiding: bool = Field(default=True, description="false: ignore an entry on a side already held")
    dedupe_window_seconds: Annotated[int, Field(ge=0, le=86_400)] = Field(
        default=60, description="An alert without signalId repeated within this window is a duplicate"
    )
    shadow: bool = Field(default=False, description="Check and size everything, send nothing")
    auth: WebhookAuth = Field(default_factory=WebhookAuth)
    rate_limit_per_minute: Annotated[int, Field(ge=1, le=600)] = 60

    @field_validator("account_ids")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("name each account once")
        return value


class Webhook(WebhookSettings):
    id: str
    url: str | None = Field(default=None, description="Where to send alerts")
    created_at: datetime
    updated_at: datetime
    secret_rotated_at: datetime


class NewWebhook(Webhook):
    secret: str = Field(
        description="Shown only now and when rotated: put it in the alert or X-Webhook-Secret"
    )


class StoredWebhook(Webhook):
    """The webhook as stored: the owner and the secret's digest, never the secret."""

    model_config = ConfigDict(extra="ignore")  # read from an item, with its keys

    user_id: str
    secret_digest: str


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    UNAUTHORIZED = "unauthorized"
    INVALID = "invalid"
    RATE_LIMITED = "rate_limited"
    IGNORED = "ignored"
    SHADOW = "shadow"
    REJECTED = "rejected"


class SignalTarget(CamelModel):
    """One account's part of a signal."""

    account_id: str
    command: Command
    symbol: str = Field(description="The alert's symbol, then the broker's once mapped")
    trade_id: str | None = Field(default=None, description="The signal's trade request on this account")
    refused: str | None = Field(default=None, description="Why no trade request was made for it")
    status: str | None = Field(default=None, description="The trade request's status now")
    reason: str | None = None
    code: str | None = None
    volume: JsonDecimal | None = Field(default=None, description="What was (or in shadow mode would be) sent")
    stop_loss: JsonDecimal | None = None
    take_profit: JsonDecimal | None = None
    children: list[str] | None = Field(default=None, description="The requests the signal became")


class Signal(CamelModel):
    id: str
    webhook_id: str
    received_at: datetime
    source_ip: str | None = None
    content_type: str | None = None
    body: str = Field(description="As received, with the secret redacted")
    signal_id: str | None = Field(default=None, description="The sender's signalId, when it sent one")
    commands: list[AlertCommand] = Field(default_factory=list)
    outcome: Outcome
    reason: str | None = None
    duplicate_of: str | None = None
    targets: list[SignalTarget] = Field(default_factory=list)


class SignalPage(CamelModel):
    items: list[Signal]
    next_token: str | None = None


class WebhookPage(CamelModel):
    items: list[Webhook]

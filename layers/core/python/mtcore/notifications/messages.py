"""What a trader reads: one message per event, at a glance. Telegram gets its text; email the same
as plain text and as HTML, with a subject."""

from __future__ import annotations

import html
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mtcore.notifications.models import Kind

_REJECTED = {"REJECTED", "FAILED", "EXPIRED", "CANCELED"}
_DONE = {"buy": "Bought", "sell": "Sold"}
_CLOSE_KINDS = {"close", "close_by", "close_all", "flatten"}


@dataclass(frozen=True)
class Message:
    subject: str
    text: str

    @property
    def html(self) -> str:
        lines = "".join(f"<p>{html.escape(line)}</p>" for line in self.text.splitlines() if line)
        title = html.escape(self.subject)
        return f'<html><body style="font-family: sans-serif"><h3>{title}</h3>{lines}</body></html>'


_REJECTIONS = ("TradeRejected", "TradeFailed", "TradeExpired")
_FILLS = ("TradeExecuted", "TradePartial", "TradePlaced")
_CLOSE = "PositionClosed"
_ONE_KIND = {
    "TradeUnknown": Kind.TRADE_UNKNOWN,
    "RiskLimitBreached": Kind.RISK_BREACHED,
    "AccountHalted": Kind.ACCOUNT_HALTED,
    "AccountDisconnected": Kind.ACCOUNT_DISCONNECTED,
    "SyncFailed": Kind.SYNC_FAILED,
    "DailySummary": Kind.DAILY_SUMMARY,
}
# Every detail type a notification can come from: the notifiers' rule on the bus takes only these.
NOTIFIED_DETAIL_TYPES = (*_REJECTIONS, *_FILLS, _CLOSE, *_ONE_KIND)


def kind_of(detail_type: str, detail: dict[str, Any]) -> Kind | None:
    """The kind of notification a bus event is, if any."""
    signal = detail.get("kind") == "signal"
    if detail_type in _REJECTIONS:
        return Kind.SIGNAL_REJECTED if signal else Kind.TRADE_REJECTED
    if detail_type in _FILLS:
        return None if signal else Kind.TRADE_EXECUTED
    if detail_type == _CLOSE:
        reason = detail.get("closeReason")
        return {"DEAL_REASON_SL": Kind.STOP_LOSS_HIT, "DEAL_REASON_TP": Kind.TAKE_PROFIT_HIT}.get(
            str(reason), Kind.POSITION_CLOSED
        )
    return _ONE_KIND.get(detail_type)


def _side(detail: dict[str, Any]) -> str:
    """buy or sell, from a trade's `actionType` (ORDER_TYPE_SELL_LIMIT…) or a position's `type`."""
    kind = str(detail.get("action") or detail.get("type") or "")
    return "sell" if "SELL" in kind else "buy" if "BUY" in kind else ""


def figure(value: Any) -> str:
    """A price or a volume as the broker gives it: its digits, no float noise."""
    return "?" if value is None else f"{Decimal(str(value)).normalize():f}"


def money(value: Any, currency: str | None) -> str:
    if value is None:
        return "?"
    amount = Decimal(str(value))
    return f"{'+' if amount > 0 else ''}{amount:.2f} {currency or ''}".rstrip()


def message_of(kind: Kind, detail: dict[str, Any], *, account: str, currency: str | None) -> Message:
    """The message for an event of `kind` on the account named `account`."""
    d = detail
    symbol, volume, side = d.get("symbol") or "", figure(d.get("volume")), _side(d)
    if kind is Kind.TRADE_EXECUTED:
        broker = d.get("broker") or {}
        price = d.get("executedPrice") or broker.get("price")
        if d.get("kind") in _CLOSE_KINDS:
            text = f"Closed {volume} {symbol} on {account} at {figure(price)}"
        elif d.get("status") == "PLACED":
            text = f"Order placed on {account}: {side} {volume} {symbol} at {figure(d.get('openPrice'))}"
        else:
            text = f"{_DONE.get(side, 'Traded')} {volume} {symbol} at {figure(price)} on {account}"
        slippage = d.get("slippagePips")
        if slippage not in (None, 0):
            text += f" (slippage {figure(slippage)} pips)"
        return Message(f"{account}: trade executed", text)
    if kind in (Kind.TRADE_REJECTED, Kind.SIGNAL_REJECTED):
        what = "Signal" if kind is Kind.SIGNAL_REJECTED else "Trade"
        status = str(d.get("status", "REJECTED")).lower()
        order = f"{side} {volume} {symbol}".strip()
        return Message(
            f"{account}: {what.lower()} {status}",
            f"{what} {status} on {account}: {order}\nWhy: {d.get('reason') or 'the broker gave no reason'}",
        )
    if kind is Kind.TRADE_UNKNOWN:
        return Message(
            f"{account}: trade outcome unknown",
            f"Whether this trade executed on {account} is not known yet: {side} {volume} {symbol}\n"
            f"{d.get('reason') or ''}\nThe next sync compares it with the broker's records: "
            "check the account.",
        )
    if kind in (Kind.POSITION_CLOSED, Kind.STOP_LOSS_HIT, Kind.TAKE_PROFIT_HIT):
        why = {Kind.STOP_LOSS_HIT: "stop loss hit", Kind.TAKE_PROFIT_HIT: "take profit hit"}.get(
            kind, "closed"
        )
        return Message(
            f"{account}: {symbol} {why}",
            f"{symbol} {side} {volume} {why} on {account} at {figure(d.get('closePrice'))}\n"
            f"P&L {money(d.get('profit'), currency)}",
        )
    if kind is Kind.RISK_BREACHED:
        return Message(
            f"{account}: risk limit reached",
            f"Risk limit reached on {account}: {d.get('message') or d.get('code')}\n"
            f"Limit {d.get('limit')}, now {d.get('value')}",
        )
    if kind is Kind.ACCOUNT_HALTED:
        return Message(
            f"{account}: trading halted",
            f"Trading halted on {account}: {d.get('haltReason') or 'by its owner'}\n"
            "New positions are refused "
            "until it is resumed (/resume).",
        )
    if kind is Kind.ACCOUNT_DISCONNECTED:
        return Message(
            f"{account}: disconnected from the broker",
            f"{account} lost its connection to the broker ({d.get('connectionStatus') or 'disconnected'}). "
            "Trades wait until it is back.",
        )
    if kind is Kind.SYNC_FAILED:
        return Message(
            f"{account}: sync failed",
            f"Sync failed on {account}: {d.get('errorMessage') or 'no reason given'}",
        )
    win_rate, largest_loss = d.get("winRate"), d.get("largestLoss")
    return Message(
        f"{account}: day of {d.get('date')}",
        f"{account}, {d.get('date')}: P&L {money(d.get('pnl'), currency)}\n"
        f"{d.get('trades', 0)} trades closed, win rate {'-' if win_rate is None else f'{win_rate}%'}, "
        f"largest loss {'none' if largest_loss is None else money(largest_loss, currency)}",
    )


TEST_MESSAGE = Message(
    "Test notification",
    "This is a test from your MetaTrader backend: notifications reach you here.",
)

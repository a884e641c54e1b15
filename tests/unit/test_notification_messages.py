"""What a trader reads for each kind of event, and which events are which kind."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mtcore.notifications.messages import kind_of, message_of
from mtcore.notifications.models import DEFAULT_EVENTS, Channel, Kind, Preferences
from mtcore.notifications.summary import summed_up


@pytest.mark.parametrize(
    ("detail_type", "detail", "kind"),
    [
        ("TradeExecuted", {"kind": "open"}, Kind.TRADE_EXECUTED),
        ("TradeRejected", {"kind": "open"}, Kind.TRADE_REJECTED),
        ("TradeRejected", {"kind": "signal"}, Kind.SIGNAL_REJECTED),
        ("TradeUnknown", {"kind": "open"}, Kind.TRADE_UNKNOWN),
        ("PositionClosed", {"closeReason": "DEAL_REASON_CLIENT"}, Kind.POSITION_CLOSED),
        ("PositionClosed", {"closeReason": "DEAL_REASON_SL"}, Kind.STOP_LOSS_HIT),
        ("PositionClosed", {"closeReason": "DEAL_REASON_TP"}, Kind.TAKE_PROFIT_HIT),
        ("RiskLimitBreached", {}, Kind.RISK_BREACHED),
        ("AccountHalted", {}, Kind.ACCOUNT_HALTED),
        ("AccountDisconnected", {}, Kind.ACCOUNT_DISCONNECTED),
        ("SyncFailed", {}, Kind.SYNC_FAILED),
        ("DailySummary", {}, Kind.DAILY_SUMMARY),
        ("PositionOpened", {}, None),
        ("TradeExecuted", {"kind": "signal"}, None),  # its children are the trades
    ],
)
def test_each_event_is_its_kind(detail_type: str, detail: dict[str, object], kind: Kind | None) -> None:
    assert kind_of(detail_type, detail) == kind


def test_an_executed_buy_names_the_account_volume_symbol_price_and_slippage() -> None:
    detail = {
        "kind": "open",
        "action": "ORDER_TYPE_BUY",
        "symbol": "EURUSD",
        "volume": 0.1,
        "executedPrice": 1.08512,
        "slippagePips": 0.3,
        "status": "EXECUTED",
    }
    message = message_of(Kind.TRADE_EXECUTED, detail, account="My MT5", currency="USD")

    assert message.text == "Bought 0.1 EURUSD at 1.08512 on My MT5 (slippage 0.3 pips)"
    assert message.subject == "My MT5: trade executed"


def test_a_rejection_says_why_in_plain_words() -> None:
    detail = {
        "kind": "open",
        "action": "ORDER_TYPE_SELL",
        "symbol": "GBPUSD",
        "volume": 1,
        "status": "REJECTED",
        "reason": "the broker refused it: not enough money (10019)",
    }
    message = message_of(Kind.TRADE_REJECTED, detail, account="Live", currency="EUR")

    assert "Trade rejected on Live: sell 1 GBPUSD" in message.text
    assert "not enough money" in message.text


@pytest.mark.parametrize(
    ("kind", "why"), [(Kind.STOP_LOSS_HIT, "stop loss hit"), (Kind.TAKE_PROFIT_HIT, "take profit hit")]
)
def test_a_close_by_its_stop_shows_the_profit_in_the_account_currency(kind: Kind, why: str) -> None:
    detail = {
        "symbol": "XAUUSD",
        "type": "POSITION_TYPE_BUY",
        "volume": 0.05,
        "closePrice": 2350.4,
        "profit": -42.5,
    }
    message = message_of(kind, detail, account="Gold", currency="USD")

    assert message.text == f"XAUUSD buy 0.05 {why} on Gold at 2350.4\nP&L -42.50 USD"


def test_a_risk_breach_names_the_limit_and_the_value() -> None:
    detail = {
        "code": "DAILY_LOSS",
        "message": "today's loss reached the daily limit",
        "limit": "300",
        "value": "312.4",
    }
    message = message_of(Kind.RISK_BREACHED, detail, account="Main", currency="USD")

    assert "today's loss reached the daily limit" in message.text
    assert "Limit 300, now 312.4" in message.text


def test_the_html_part_escapes_what_it_shows() -> None:
    message = message_of(Kind.SYNC_FAILED, {"errorMessage": "<script>"}, account="A & B", currency=None)

    assert "&lt;script&gt;" in message.html
    assert "A &amp; B" in message.html
    assert "<script>" not in message.html


def test_a_daily_summary_sums_the_day() -> None:
    summary = summed_up([Decimal("10"), Decimal("-4.5"), Decimal("20"), Decimal("-12")], "2026-12-07")
    detail = summary.detail("u", "a", "USD")
    message = message_of(Kind.DAILY_SUMMARY, detail, account="Main", currency="USD")

    assert (detail["pnl"], detail["trades"], detail["wins"], detail["winRate"], detail["largestLoss"]) == (
        13.5,
        4,
        2,
        50,
        -12.0,
    )
    assert (
        message.text
        == "Main, 2026-12-07: P&L +13.50 USD\n4 trades closed, win rate 50%, largest loss -12.00 USD"
    )


def test_defaults_send_errors_risk_and_disconnects_everywhere_and_fills_to_telegram_only() -> None:
    preferences = Preferences(email={"enabled": True, "address": "t@example.com"})

    assert preferences.channels_for(Kind.TRADE_EXECUTED) == [Channel.TELEGRAM]
    for kind in (Kind.TRADE_REJECTED, Kind.RISK_BREACHED, Kind.ACCOUNT_DISCONNECTED, Kind.SYNC_FAILED):
        assert preferences.channels_for(kind) == [Channel.TELEGRAM, Channel.EMAIL]
    assert set(DEFAULT_EVENTS) == set(Kind)
    assert Preferences().channels_for(Kind.TRADE_REJECTED) == [Channel.TELEGRAM]  # email off by default

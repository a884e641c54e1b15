"""Each risk rule refusing an entry at its edge and passing it just inside."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from mtcore.risk.models import RiskProfile
from mtcore.risk.rules import EntryFacts, OpenPosition, RiskRefused, entry_checks, refuse_entry

# A Wednesday, 10:00 UTC (11:00 in London in winter)
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
ENTRY = EntryFacts(symbol="EURUSD", volume=Decimal("1.0"), has_stop_loss=True, now=NOW)


def _profile(**limits: Any) -> RiskProfile:
    return RiskProfile.model_validate(limits)


def _code(profile: RiskProfile, facts: EntryFacts) -> str | None:
    try:
        refuse_entry(profile, facts)
    except RiskRefused as refusal:
        return refusal.code
    return None


EDGES: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any], str]] = [
    # limits, facts just inside, facts at the edge, code
    ({"maxVolumePerOrder": 1}, {"volume": Decimal("1.0")}, {"volume": Decimal("1.01")}, "RISK_MAX_VOLUME"),
    (
        {"maxOpenPositions": 2},
        {"positions": [OpenPosition("GBPUSD", Decimal(1))]},
        {"positions": [OpenPosition("GBPUSD", Decimal(1))] * 2},
        "RISK_MAX_POSITIONS",
    ),
    (
        {"maxPositionsPerSymbol": 1},
        {"positions": [OpenPosition("GBPUSD", Decimal(1))]},
        {"positions": [OpenPosition("EURUSD", Decimal(1))]},
        "RISK_MAX_POSITIONS",
    ),
    (
        {"maxTotalVolumePerSymbol": 3},
        {"positions": [OpenPosition("EURUSD", Decimal(2))]},
        {"positions": [OpenPosition("EURUSD", Decimal("2.01"))]},
        "RISK_MAX_VOLUME",
    ),
    (
        {"maxRiskPerTradePercent": 1},
        {"risk_percent": Decimal(1)},
        {"risk_percent": Decimal("1.01")},
        "RISK_TRADE_RISK",
    ),
    (
        {"maxRiskPerTradePercent": 1},
        {"risk_percent": Decimal(1)},
        {"has_stop_loss": False},
        "RISK_TRADE_RISK",
    ),
    ({"requireStopLoss": True}, {"has_stop_loss": True}, {"has_stop_loss": False}, "RISK_NO_STOP_LOSS"),
    ({"allowedSymbols": ["EURUSD"]}, {"symbol": "EURUSD"}, {"symbol": "GBPUSD"}, "RISK_SYMBOL_NOT_ALLOWED"),
    ({"blockedSymbols": ["GBPUSD"]}, {"symbol": "EURUSD"}, {"symbol": "GBPUSD"}, "RISK_SYMBOL_NOT_ALLOWED"),
    (
        {
            "tradingWindows": {
                "timeZone": "Europe/London",
                "windows": [{"days": ["WEDNESDAY"], "from": "08:00", "to": "11:00"}],
            }
        },
        {"now": NOW + timedelta(minutes=59)},
        {"now": NOW + timedelta(minutes=60)},
        "RISK_OUTSIDE_WINDOW",
    ),
    ({"maxTradesPerDay": 3}, {"trades_today": 2}, {"trades_today": 3}, "RISK_MAX_TRADES"),
    (
        {"cooldownAfterLossMinutes": 30},
        {"last_loss_at": NOW - timedelta(minutes=30)},
        {"last_loss_at": NOW - timedelta(minutes=29, seconds=59)},
        "RISK_COOLDOWN",
    ),
    (
        {"maxDailyLoss": {"amount": 500}},
        {"today_loss": Decimal("499.99")},
        {"today_loss": Decimal(500)},
        "RISK_DAILY_LOSS",
    ),
    (
        {"maxDailyLoss": {"percent": 5}},
        {"today_loss": Decimal("499.99"), "day_start_equity": Decimal(10000)},
        {"today_loss": Decimal(500), "day_start_equity": Decimal(10000)},
        "RISK_DAILY_LOSS",
    ),
    (
        {"maxDrawdownPercent": 10},
        {"drawdown_percent": Decimal("9.99")},
        {"drawdown_percent": Decimal(10)},
        "RISK_DRAWDOWN",
    ),
]


@pytest.mark.parametrize(
    ("limits", "inside", "edge", "code"), EDGES, ids=[f"{e[3]}-{next(iter(e[0]))}" for e in EDGES]
)
def test_each_rule_refuses_at_its_edge_and_passes_just_inside(
    limits: dict[str, Any], inside: dict[str, Any], edge: dict[str, Any], code: str
) -> None:
    profile = _profile(**limits)

    assert _code(profile, replace(ENTRY, **inside)) is None
    assert _code(profile, replace(ENTRY, **edge)) == code


def test_a_halted_account_is_a_409_with_its_reason() -> None:
    with pytest.raises(RiskRefused) as refusal:
        refuse_entry(_profile(), replace(ENTRY, halted=True, halt_reason="daily loss limit reached"))

    assert (refusal.value.code, int(refusal.value.status)) == ("RISK_HALTED", 409)
    assert "daily loss limit reached" in refusal.value.message


def test_no_profile_limits_nothing_and_an_unknown_fact_is_not_judged() -> None:
    everything = _profile(
        maxOpenPositions=1, maxTradesPerDay=1, maxDailyLoss={"amount": 1}, maxDrawdownPercent=1
    )

    assert _code(_profile(), replace(ENTRY, volume=Decimal(1000), has_stop_loss=False)) is None
    assert _code(everything, ENTRY) is None  # positions, trades and losses unknown
    assert [check.rule for check in entry_checks(everything, ENTRY)] == ["halt"]


def test_a_window_across_midnight_and_every_check_named() -> None:
    overnight = _profile(
        tradingWindows={
            "timeZone": "Asia/Tokyo",
            "windows": [{"days": ["TUESDAY"], "from": "22:00", "to": "06:00"}],
        },
        maxVolumePerOrder=2,
    )
    # 10:00 UTC on Wednesday is 19:00 in Tokyo: outside; 20:00 UTC on Tuesday is 05:00 Wednesday there: inside
    late = replace(ENTRY, now=datetime(2026, 12, 1, 20, 0, tzinfo=UTC))

    assert _code(overnight, ENTRY) == "RISK_OUTSIDE_WINDOW"
    assert _code(overnight, late) is None
    assert [(c.rule, c.passed) for c in entry_checks(overnight, ENTRY)] == [
        ("halt", True),
        ("maxVolumePerOrder", True),
        ("tradingWindows", False),
    ]


def test_a_profile_is_validated_naming_the_field() -> None:
    with pytest.raises(ValueError, match="timeZone"):
        _profile(
            tradingWindows={
                "timeZone": "Mars/Olympus",
                "windows": [{"days": ["MONDAY"], "from": "08:00", "to": "09:00"}],
            }
        )
    with pytest.raises(ValueError, match="maxDailyLoss"):
        _profile(maxDailyLoss={"amount": 1, "percent": 1})

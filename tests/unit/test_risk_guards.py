"""The loss guards: the broker's day, today's profit and loss, and a breach acted on once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from mtcore.risk.guards import evaluate, today_pnl, trading_day
from mtcore.risk.models import RiskProfile, RiskState

NOW = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)
LIMITS = RiskProfile.model_validate({"maxDailyLoss": {"percent": 5}, "maxDrawdownPercent": 10})


def test_the_brokers_day_starts_at_its_own_midnight() -> None:
    # 23:30 UTC is 01:30 the next day at a broker on UTC+2
    day = trading_day(NOW, datetime(2026, 12, 3, 1, 30, 2))
    utc = trading_day(NOW, None)

    assert (day.day, day.start) == ("2026-12-03", datetime(2026, 12, 2, 22, 0, tzinfo=UTC))
    assert (utc.day, utc.start) == ("2026-12-02", datetime(2026, 12, 2, 0, 0, tzinfo=UTC))


def test_todays_pnl_is_what_closed_today_plus_what_is_open() -> None:
    assert today_pnl(
        realized_today=[Decimal(-120), Decimal("20.5")], balance=Decimal(9900), equity=Decimal(9800)
    ) == (Decimal("-199.50"))


def _acted(state: RiskState) -> RiskState:
    """The state once `onBreach` was applied for every breach in it (as the guard records it)."""
    return state.model_copy(
        update={"breaches": [b.model_copy(update={"acted_at": NOW}) for b in state.breaches]}
    )


def test_the_day_starts_from_the_equity_before_todays_pnl_and_a_breach_is_acted_on_once() -> None:
    first, none = evaluate(
        LIMITS, RiskState(), day="2026-12-02", equity=Decimal(9700), pnl=Decimal(-300), now=NOW
    )
    # 5% of a 10000 start is 500: a loss of 499.99 is inside, 500 is the edge
    inside, still_none = evaluate(
        LIMITS, first, day="2026-12-02", equity=Decimal("9500.01"), pnl=Decimal("-499.99"), now=NOW
    )
    breached, new = evaluate(
        LIMITS, inside, day="2026-12-02", equity=Decimal(9500), pnl=Decimal(-500), now=NOW
    )
    again, not_again = evaluate(
        LIMITS, _acted(breached), day="2026-12-02", equity=Decimal(9400), pnl=Decimal(-600), now=NOW
    )
    # Back under the limit and over it again the same day: acted on already, not again.
    swung, not_swung = evaluate(
        LIMITS, again, day="2026-12-02", equity=Decimal(9600), pnl=Decimal(-400), now=NOW
    )
    _, still_not = evaluate(LIMITS, swung, day="2026-12-02", equity=Decimal(9300), pnl=Decimal(-700), now=NOW)
    next_day, fresh = evaluate(
        LIMITS, swung, day="2026-12-03", equity=Decimal(9400), pnl=Decimal(0), now=NOW + timedelta(hours=1)
    )

    assert first.day_start_equity == Decimal(10000)
    assert (none, still_none, not_again, not_swung, still_not, fresh) == ([], [], [], [], [], [])
    assert [(b.code, b.limit, b.value) for b in new] == [("RISK_DAILY_LOSS", "500.00", "500")]
    assert [b.code for b in swung.breaches] == ["RISK_DAILY_LOSS"]
    assert (next_day.day_start_equity, next_day.breaches) == (Decimal(9400), [])


def test_a_breach_never_acted_on_is_answered_again() -> None:
    breached, first = evaluate(LIMITS, RiskState(), day="d", equity=Decimal(9500), pnl=Decimal(-500), now=NOW)
    _, again = evaluate(
        LIMITS, breached, day="d", equity=Decimal(9500), pnl=Decimal(-500), now=NOW + timedelta(minutes=1)
    )

    assert [b.code for b in first] == [b.code for b in again] == ["RISK_DAILY_LOSS"]


def test_each_limit_is_acted_on_once_whatever_the_other_does() -> None:
    # The drawdown breaches first and is acted on; the daily loss breaches later the same day.
    high, _ = evaluate(LIMITS, RiskState(), day="d1", equity=Decimal(12000), pnl=Decimal(0), now=NOW)
    drawdown, first = evaluate(LIMITS, high, day="d1", equity=Decimal(10800), pnl=Decimal(-100), now=NOW)
    both, second = evaluate(
        LIMITS, _acted(drawdown), day="d1", equity=Decimal(10300), pnl=Decimal(-600), now=NOW
    )
    # The next day the daily loss has recovered; the drawdown, never recovered, is not acted on again.
    next_day, third = evaluate(LIMITS, _acted(both), day="d2", equity=Decimal(10300), pnl=Decimal(0), now=NOW)
    recovered, _ = evaluate(LIMITS, next_day, day="d2", equity=Decimal(11000), pnl=Decimal(700), now=NOW)
    _, fourth = evaluate(LIMITS, recovered, day="d2", equity=Decimal(10700), pnl=Decimal(400), now=NOW)

    assert [b.code for b in first] == ["RISK_DRAWDOWN"]
    assert [b.code for b in second] == ["RISK_DAILY_LOSS"]
    assert third == []
    assert [b.code for b in next_day.breaches] == ["RISK_DRAWDOWN"]
    assert recovered.breaches == []
    assert [b.code for b in fourth] == ["RISK_DRAWDOWN"]  # recovered, then breached anew


def test_drawdown_from_the_high_water_mark() -> None:
    high, _ = evaluate(LIMITS, RiskState(), day="d", equity=Decimal(12000), pnl=Decimal(0), now=NOW)
    inside, none = evaluate(LIMITS, high, day="d", equity=Decimal(10801), pnl=Decimal(0), now=NOW)
    _, new = evaluate(LIMITS, inside, day="d", equity=Decimal(10800), pnl=Decimal(0), now=NOW)

    assert (high.high_water_mark, inside.high_water_mark) == (Decimal(12000), Decimal(12000))
    assert none == []
    assert [(b.code, b.value) for b in new] == [("RISK_DRAWDOWN", "10.00%")]

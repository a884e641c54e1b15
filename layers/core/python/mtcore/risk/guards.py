"""The loss guards: today's loss against the day's starting equity, and the drawdown from the
equity high-water mark, evaluated at every sync. Each limit is tracked on its own: one newly
breached is answered to be acted on (`onBreach`), and once acted on it is not acted on again
until it has recovered (a new broker day for the daily loss, however the day goes on; equity back
inside the limit for the drawdown). A breach found but never acted on (the halt failed) is
answered again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from mtcore.risk.models import Breach, RiskProfile, RiskState
from mtcore.risk.rules import daily_loss_limit

CENT = Decimal("0.01")
DAILY_LOSS, DRAWDOWN = "RISK_DAILY_LOSS", "RISK_DRAWDOWN"
_OFFSET_STEP = timedelta(minutes=15)  # broker time zones are whole quarter hours from UTC


@dataclass(frozen=True)
class TradingDay:
    day: str  # the broker's date, YYYY-MM-DD
    start: datetime  # its midnight, in UTC


def trading_day(now: datetime, broker_now: datetime | None) -> TradingDay:
    """The broker's day, from its wall clock (naive, its time zone) beside ours; UTC's without it."""
    if broker_now is None:
        midnight = datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)
        return TradingDay(midnight.date().isoformat(), midnight)
    offset = broker_now - now.astimezone(UTC).replace(tzinfo=None)
    offset = round(offset / _OFFSET_STEP) * _OFFSET_STEP
    midnight = datetime.combine(broker_now.date(), time(0)) - offset
    return TradingDay(broker_now.date().isoformat(), midnight.replace(tzinfo=UTC))


@dataclass(frozen=True)
class Standing:
    """Where the account stands against its loss limits now."""

    today_pnl: Decimal  # realized since the broker's day start, plus floating
    day_start_equity: Decimal
    high_water_mark: Decimal
    drawdown_percent: Decimal

    @property
    def today_loss(self) -> Decimal:
        return max(Decimal(0), -self.today_pnl)


def today_pnl(*, realized_today: Sequence[Decimal], balance: Decimal, equity: Decimal) -> Decimal:
    """Closed today (each closing deal's profit, swap and commission) plus what is open now."""
    return (sum(realized_today, Decimal(0)) + equity - balance).quantize(CENT)


def standing(state: RiskState, *, day: str, equity: Decimal, pnl: Decimal) -> Standing:
    start = (
        state.day_start_equity if state.day == day and state.day_start_equity is not None else equity - pnl
    )
    high = max(state.high_water_mark or equity, equity)
    drawdown = ((high - equity) / high * 100).quantize(CENT) if high > 0 else Decimal(0)
    return Standing(today_pnl=pnl, day_start_equity=start, high_water_mark=high, drawdown_percent=drawdown)


def evaluate(
    profile: RiskProfile, state: RiskState, *, day: str, equity: Decimal, pnl: Decimal, now: datetime
) -> tuple[RiskState, list[Breach]]:
    """The guards' new state, and the breaches to act on (none when nothing newly breached)."""
    now_standing = standing(state, day=day, equity=equity, pnl=pnl)
    found = {breach.code: breach for breach in _breaches(profile, now_standing, now)}
    kept = [
        breach
        for breach in state.breaches
        if breach.acted_at is not None
        and (state.day == day if breach.code == DAILY_LOSS else breach.code in found)
    ]
    acted = {breach.code for breach in kept}
    new = [breach for code, breach in found.items() if code not in acted]
    updated = state.model_copy(
        update={
            "day": day,
            "day_start_equity": now_standing.day_start_equity,
            "high_water_mark": now_standing.high_water_mark,
            "breaches": [*kept, *new],
            "evaluated_at": now,
        }
    )
    return updated, new


def _breaches(profile: RiskProfile, now_standing: Standing, now: datetime) -> list[Breach]:
    found = []
    limit = daily_loss_limit(profile, now_standing.day_start_equity)
    if limit is not None and now_standing.today_loss >= limit:
        found.append(
            Breach(
                code=DAILY_LOSS,
                message=f"today's loss of {now_standing.today_loss} reached the daily limit of {limit}",
                limit=str(limit),
                value=str(now_standing.today_loss),
                at=now,
            )
        )
    most = profile.max_drawdown_percent
    if most is not None and now_standing.drawdown_percent >= most:
        found.append(
            Breach(
                code=DRAWDOWN,
                message=(
                    f"equity fell {now_standing.drawdown_percent}% below its high of "
                    f"{now_standing.high_water_mark}, over the limit of {most}%"
                ),
                limit=f"{most}%",
                value=f"{now_standing.drawdown_percent}%",
                at=now,
            )
        )
    return found

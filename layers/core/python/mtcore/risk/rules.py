"""The risk rules every entry (a market or pending order) passes, at acceptance and again right
before it is sent. Each rule answers pass or fail with its code, limit, value and a sentence; a
refusal is the first failure. Closing, reducing and canceling are never judged by them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from http import HTTPStatus

from mtcore.errors import TradeRefused
from mtcore.risk.models import RiskProfile


class RiskRefused(TradeRefused):
    """An entry a risk rule refuses: 422, or 409 while the account is halted."""

    def __init__(self, check: RuleCheck) -> None:
        super().__init__(check.code, check.field, check.message, limit=check.limit, value=check.value)
        if check.code == "RISK_HALTED":
            self.status = HTTPStatus.CONFLICT


@dataclass(frozen=True)
class RuleCheck:
    rule: str
    passed: bool
    code: str
    message: str
    field: str = "body"
    limit: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class OpenPosition:
    symbol: str
    volume: Decimal


@dataclass(frozen=True)
class EntryFacts:
    """What the rules judge an entry by; a fact the caller could not tell is None and its rule
    then judges only what is known."""

    symbol: str
    volume: Decimal
    has_stop_loss: bool
    now: datetime
    risk_percent: Decimal | None = None  # loss at the stop loss, % of equity
    halted: bool = False
    halt_reason: str | None = None
    positions: Sequence[OpenPosition] | None = None
    trades_today: int | None = None
    last_loss_at: datetime | None = None
    today_loss: Decimal | None = None  # money lost today (realized and floating), positive
    day_start_equity: Decimal | None = None
    drawdown_percent: Decimal | None = None


Rule = Callable[[RiskProfile, EntryFacts], RuleCheck | None]


def _halt(profile: RiskProfile, facts: EntryFacts) -> RuleCheck | None:
    why = f": {facts.halt_reason}" if facts.halt_reason else ""
    return RuleCheck(
        "halt",
        not facts.halted,
        "RISK_HALTED",
        f"trading is halted on this account{why}; resume it to place new orders"
        if facts.halted
        else "not halted",
        limit="not halted",
        value="halted" if facts.halted else "not halted",
    )


def _symbol(profile: RiskProfile, facts: EntryFacts) -> RuleCheck | None:
    if profile.allowed_symbols is None and profile.blocked_symbols is None:
        return None
    allowed = profile.allowed_symbols is None or facts.symbol in profile.allowed_symbols
    blocked = facts.symbol in (profile.blocked_symbols or [])
    if blocked:
        message = f"{facts.symbol} is blocked on this account"
    elif not allowed:
        message = f"{facts.symbol} is not among the symbols this account may trade"
    else:
        message = f"{facts.symbol} may be traded"
    limit = ",".join(profile.allowed_symbols) if profile.allowed_symbols is not None else "not blocked"
    return RuleCheck(
        "symbols",
        allowed and not blocked,
        "RISK_SYMBOL_NOT_ALLOWED",
        message,
        "body.symbol",
        limit,
        facts.symbol,
    )


def _volume(profile: RiskProfile, facts: EntryFacts) -> RuleCheck | None:
    limit = profile.max_volume_per_order
    if limit is None:
        return None
    passed = facts.volume <= limit
    relation = "within" if passed else "over"
    message = f"{facts.volume} lots is {relation} this account's limit of {limit} lots an order"
    return RuleCheck(
        "maxVolumePerOrder", passed, "RISK_MAX_VOLUME", message, "body.volume", str(limit), str(facts.volume)
    )


def _stop_loss(profile: RiskProfile, facts: EntryFacts) -> RuleCheck | None:
    if not profile.require_stop_loss:
        return None
    message = (
        "the order has a stop loss"
        if facts.has_stop_loss
        else "this account only takes orders with a stop loss"
    )
    return RuleCheck(
        "requireStopLoss",
        facts.has_stop_loss,
        "RISK_NO_STOP_LOSS",
        message,
        "body.stopLoss",
        "a stop loss",
        "none" if not facts.has_stop_loss else "set",
    )


def _trade_risk(profile: RiskProfile, facts: EntryFacts) -> RuleCheck | None:
    limit = profile.max_risk_per_trade_percent
    if limit is None:
        return None
    if not facts.has_stop_loss:
        return RuleCheck(
            "maxRiskPerTradePercent",
            False,
            "RISK_TRADE_RISK",
            f"without a stop loss the risk is unbounded; this account risks at most {limit}% "
            "of equity a trade",
            "body.stopLoss",
            f"{limit}%",
            "unbounded",
        )
    if facts.risk_percent is None:
        return None
    passed = facts.risk_percent <= limit
    message = f"the stop loss risks {facts.risk_percent}% of equity; this account's limit is {limit}% a trade"
    return RuleCheck(
        "maxRiskPerTradePercent",
        passed,
        "RISK_TRADE_RISK",
        message,
        "body.stopLoss",
        f"{limit}%",
        f"{facts.risk_percent}%",
    )


def _positions(profile: RiskProfile, facts: EntryFacts) -> list[RuleCheck]:
    if facts.positions is None:
        return []
    checks: list[RuleCheck] = []
    total, mine = len(facts.positions), [p for p in facts.positions if p.symbol == facts.symbol]
    if profile.max_open_positions is not None:
        limit = profile.max_open_positions
        passed = total < limit
        checks.append(
            RuleCheck(
                "maxOpenPositions",
                passed,
                "RISK_MAX_POSITIONS",
                f"{total} positions are open; this account holds at most {limit}",
                "body",
                str(limit),
                str(total + 1),
            )
        )
    if profile.max_positions_per_symbol is not None:
        limit = profile.max_positions_per_symbol
        checks.append(
            RuleCheck(
                "maxPositionsPerSymbol",
                len(mine) < limit,
                "RISK_MAX_POSITIONS",
                f"{len(mine)} {facts.symbol} positions are open; this account holds at most {limit} a symbol",
                "body.symbol",
                str(limit),
                str(len(mine) + 1),
            )
        )
    if profile.max_total_volume_per_symbol is not None:
        limit_volume = profile.max_total_volume_per_symbol
        after = sum((p.volume for p in mine), Decimal(0)) + facts.volume
        checks.append(
            RuleCheck(
                "maxTotalVolumePerSymbol",
                after <= limit_volume,
                "RISK_MAX_VOLUME",
                f"{after} lots of {facts.symbol} would be open; this account holds at most "
                f"{limit_volume} lots a symbol",
                "body.volume",
                str(limit_volume),
                str(after),
            )
        )
    return checks


def _window(profile: RiskProfile, facts: EntryFacts) -> RuleCheck | None:
    windows = profile.trading_windows
    if windows is None:
        return None
    passed = windows.open_at(facts.now)
    local = facts.now.astimezone(windows.zone).strftime("%A %H:%M")
    message = (
        f"{local} ({windows.time_zone}) is {'inside' if passed else 'outside'} this account's trading windows"
    )
    return RuleCheck(
        "tradingWindows", passed, "RISK_OUTSIDE_WINDOW", message, "body", windows.time_zone, local
    )


def _trades(profile: RiskProfile, facts: EntryFacts) -> RuleCheck | None:
    limit = profile.max_trades_per_day
    if limit is None or facts.trades_today is None:
        return None
    passed = facts.trades_today < limit
    message = f"{facts.trades_today} trades were made today; this account makes at most {limit} a day"
    return RuleCheck(
        "maxTradesPerDay", passed, "RISK_MAX_TRADES", message, "body", str(limit), str(facts.trades_today + 1)
    )


def _cooldown(profile: RiskProfile, facts: EntryFacts) -> RuleCheck | None:
    minutes = profile.cooldown_after_loss_minutes
    if minutes is None or facts.last_loss_at is None:
        return None
    until = facts.last_loss_at + timedelta(minutes=minutes)
    passed = facts.now >= until
    message = (
        f"the last trade lost at {facts.last_loss_at:%H:%M} UTC; new orders wait {minutes} minutes, "
        f"until {until:%H:%M} UTC"
    )
    return RuleCheck(
        "cooldownAfterLossMinutes",
        passed,
        "RISK_COOLDOWN",
        message,
        "body",
        f"{minutes} min",
        f"{until.isoformat()}",
    )


def _daily_loss(profile: RiskProfile, facts: EntryFacts) -> RuleCheck | None:
    limit = daily_loss_limit(profile, facts.day_start_equity)
    if limit is None or facts.today_loss is None:
        return None
    passed = facts.today_loss < limit
    message = f"today's loss is {facts.today_loss}; this account stops entries at a loss of {limit} a day"
    return RuleCheck(
        "maxDailyLoss", passed, "RISK_DAILY_LOSS", message, "body", str(limit), str(facts.today_loss)
    )


def _drawdown(profile: RiskProfile, facts: EntryFacts) -> RuleCheck | None:
    limit = profile.max_drawdown_percent
    if limit is None or facts.drawdown_percent is None:
        return None
    passed = facts.drawdown_percent < limit
    message = f"equity is {facts.drawdown_percent}% below its high; this account stops entries at {limit}%"
    return RuleCheck(
        "maxDrawdownPercent",
        passed,
        "RISK_DRAWDOWN",
        message,
        "body",
        f"{limit}%",
        f"{facts.drawdown_percent}%",
    )


def daily_loss_limit(profile: RiskProfile, day_start_equity: Decimal | None) -> Decimal | None:
    """The day's loss limit in money: an amount, or a share of the day's starting equity."""
    limit = profile.max_daily_loss
    if limit is None:
        return None
    if limit.amount is not None:
        return limit.amount
    if limit.percent is None or day_start_equity is None:
        return None
    return (day_start_equity * limit.percent / 100).quantize(Decimal("0.01"))


def entry_checks(profile: RiskProfile, facts: EntryFacts) -> list[RuleCheck]:
    """Every rule that applies to this entry, in the order a refusal names the first failure."""
    checks: list[RuleCheck] = []
    for rule in (_halt, _symbol, _volume, _stop_loss, _trade_risk):
        found = rule(profile, facts)
        if found is not None:
            checks.append(found)
    checks += _positions(profile, facts)
    for rule in (_window, _trades, _cooldown, _daily_loss, _drawdown):
        found = rule(profile, facts)
        if found is not None:
            checks.append(found)
    return checks


def refuse_entry(profile: RiskProfile, facts: EntryFacts) -> None:
    """Raise the first failing rule's refusal; nothing when the entry passes them all."""
    failed = next((check for check in entry_checks(profile, facts) if not check.passed), None)
    if failed is not None:
        raise RiskRefused(failed)

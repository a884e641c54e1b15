"""The kill switch (halt, with or without closing everything, and resume, per account or for all
of a user's accounts), the loss guards acted on after a sync, where an account stands against its
risk limits, and an order previewed against every check without being queued."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import Field

from mtcore.ids import new_ulid
from mtcore.models import CamelModel, JsonDecimal
from mtcore.observability import logger
from mtcore.portfolio import realized_since
from mtcore.risk import (
    Breach,
    OnBreach,
    RiskProfile,
    TradingDay,
    entry_checks,
    evaluate,
    loss_per_lot,
    standing,
    today_pnl,
    trading_day,
)
from mtcore.trading.acceptance import TradeCall, accept
from mtcore.trading.intents import Flatten
from mtcore.trading.models import SETTLED, TradeRequest
from mtcore.trading.pretrade import Verdicts
from mtcore.trading.risk_gate import Entry

if TYPE_CHECKING:
    from mtcore.accounts import Account
    from mtcore.trading.acceptance import TradeDesk
    from mtcore.trading.bodies import NewOrder

CENT = Decimal("0.01")
_PAGE = 100


class HaltRequest(CamelModel):
    flatten: bool = Field(
        default=False, description="Also close every position and cancel every pending order"
    )
    reason: str | None = Field(default=None, max_length=200, description="Shown with the halt")


class HaltState(CamelModel):
    account_id: str
    halted: bool
    reason: str | None = None
    halted_at: datetime | None = None
    flatten: TradeRequest | None = Field(
        default=None, description="The request closing everything, when asked"
    )


def halt(user_id: str, account_id: str, request: HaltRequest, *, desk: TradeDesk) -> HaltState:
    return halt_account(desk.accounts.get(user_id, account_id), request, desk=desk)


def halt_account(account: Account, request: HaltRequest, *, desk: TradeDesk) -> HaltState:
    """Stop every entry not yet sent; with `flatten`, also close everything through the order
    queue, once: a flatten still under way is answered instead of starting another."""
    reason = request.reason or "halted by the account's owner"
    halted = desk.accounts.update(
        account, {"trading_halted": True, "halt_reason": reason, "halted_at": datetime.now(UTC)}
    )
    flattening = None
    if request.flatten:
        flattening = _flatten(halted, desk)
    return _state(halted, flattening)


def _flatten(account: Account, desk: TradeDesk) -> TradeRequest | None:
    """The account's flatten under way, or a new one, started by one halt only: the one that
    claims its id on the account. None while another halt's flatten is being written."""
    while True:
        running = desk.trades.find(account.id, account.flatten_trade_id) if account.flatten_trade_id else None
        if running is not None and running.status not in SETTLED:
            return running
        trade_id = new_ulid()
        if desk.accounts.claim_flatten(account, trade_id):
            return accept(TradeCall(account.user_id, account.id), Flatten(), desk=desk, trade_id=trade_id)
        account = desk.accounts.get(account.user_id, account.id)
        if (
            account.flatten_trade_id is not None
            and desk.trades.find(account.id, account.flatten_trade_id) is None
        ):
            return None  # claimed by a halt this instant, its requests not yet written


def resume(user_id: str, account_id: str, *, desk: TradeDesk) -> HaltState:
    account = desk.accounts.get(user_id, account_id)
    resumed = desk.accounts.update(account, {"trading_halted": False, "halt_reason": None, "halted_at": None})
    return _state(resumed, None)


def halt_all(user_id: str, request: HaltRequest, *, desk: TradeDesk) -> list[HaltState]:
    return [halt_account(account, request, desk=desk) for account in _accounts_of(user_id, desk)]


def resume_all(user_id: str, *, desk: TradeDesk) -> list[HaltState]:
    return [resume(user_id, account.id, desk=desk) for account in _accounts_of(user_id, desk)]


def _accounts_of(user_id: str, desk: TradeDesk) -> Iterator[Account]:
    token = None
    while True:
        page = desk.accounts.list_for_user(user_id, limit=_PAGE, next_token=token)
        yield from page.items
        token = page.next_token
        if token is None:
            return


def _state(account: Account, flattening: TradeRequest | None) -> HaltState:
    return HaltState(
        account_id=account.id,
        halted=account.trading_halted,
        reason=account.halt_reason,
        halted_at=account.halted_at,
        flatten=flattening,
    )


# The loss guards ------------------------------------------------------------------------------


def guard(account: Account, *, desk: TradeDesk, now: datetime) -> Breach | None:
    """The loss guards against the balance and equity a sync just stored: the day's starting
    equity and the high-water mark move on, and a limit newly breached applies `onBreach`, then
    is marked acted on (a halt that fails leaves it to the next sync). Answers the breach acted
    on."""
    if account.balance is None or account.equity is None:
        return None
    profile, state = desk.risk.read(account.id)
    if profile.max_daily_loss is None and profile.max_drawdown_percent is None:
        return None  # no loss limit to guard: nothing read, nothing written
    day = _trading_day(account, desk, now)
    pnl = _today_pnl(account, desk, day, balance=account.balance, equity=account.equity, now=now)
    updated, new = evaluate(profile, state, day=day.day, equity=account.equity, pnl=pnl, now=now)
    if updated.model_copy(update={"evaluated_at": state.evaluated_at}) == state:
        return None  # nothing moved (no new day, high or breach): nothing written
    if not desk.risk.put_state(account.id, updated, read=state):
        return None  # another sync evaluated alongside: it acts on what it found
    if not new:
        return None
    breach = new[0]
    logger.warning(
        "risk limit breached",
        extra={"code": breach.code, "limit": breach.limit, "value": breach.value},
    )
    halt_account(
        account,
        HaltRequest(flatten=profile.on_breach is OnBreach.FLATTEN, reason=breach.message),
        desk=desk,
    )
    codes = {found.code for found in new}
    acted = [
        found.model_copy(update={"acted_at": now}) if found.code in codes else found
        for found in updated.breaches
    ]
    desk.risk.put_state(account.id, updated.model_copy(update={"breaches": acted}), read=updated)
    return breach


def _trading_day(account: Account, desk: TradeDesk, now: datetime) -> TradingDay:
    remote = account.remote
    return trading_day(now, desk.market.broker_now(desk.client(account), remote))


def _today_pnl(
    account: Account, desk: TradeDesk, day: TradingDay, *, balance: Decimal, equity: Decimal, now: datetime
) -> Decimal:
    realized = realized_since(desk.history, account.id, day.start, now)
    return today_pnl(realized_today=realized, balance=balance, equity=equity)


# Where the account stands ----------------------------------------------------------------------


class LimitUsage(CamelModel):
    limit: str = Field(description="The profile's field")
    value: str = Field(description="Its setting")
    current: str | None = Field(default=None, description="Where the account is against it now")


class RiskStatus(CamelModel):
    halted: bool
    halt_reason: str | None = None
    halted_at: datetime | None = None
    currency: str | None = None
    day: str = Field(description="The broker's trading day")
    day_start_equity: JsonDecimal
    equity: JsonDecimal
    today_pnl: JsonDecimal = Field(description="Closed since the broker's day start, plus floating")
    high_water_mark: JsonDecimal
    drawdown_percent: JsonDecimal
    trades_today: int
    open_positions: int
    breaches: list[Breach] = Field(description="The loss limits breached and not yet recovered")
    limits: list[LimitUsage]


def status(user_id: str, account_id: str, *, desk: TradeDesk) -> RiskStatus:
    account = desk.accounts.get(user_id, account_id)
    client, remote = desk.client(account), account.remote
    profile, state = desk.risk.read(account.id)
    now = datetime.now(UTC)
    day = _trading_day(account, desk, now)
    info = client.account_information(remote)  # as it is now, not as cached for orders
    pnl = _today_pnl(account, desk, day, balance=info.balance, equity=info.equity, now=now)
    now_standing = standing(state, day=day.day, equity=info.equity, pnl=pnl)
    positions = client.positions(remote)
    trades_today = desk.gate.entries_since(account.id, day.start)
    per_symbol: dict[str, list[Decimal]] = {}
    for position in positions:
        per_symbol.setdefault(position.symbol, []).append(position.volume)
    usage = {
        "maxOpenPositions": str(len(positions)),
        "maxPositionsPerSymbol": str(max((len(v) for v in per_symbol.values()), default=0)),
        "maxTotalVolumePerSymbol": str(
            max((sum(v, Decimal(0)) for v in per_symbol.values()), default=Decimal(0))
        ),
        "maxTradesPerDay": str(trades_today),
        "maxDailyLoss": str(max(Decimal(0), -pnl)),
        "maxDrawdownPercent": f"{now_standing.drawdown_percent}%",
        "tradingWindows": "open"
        if profile.trading_windows and profile.trading_windows.open_at(now)
        else "closed",
    }
    return RiskStatus(
        halted=account.trading_halted,
        halt_reason=account.halt_reason,
        halted_at=account.halted_at,
        currency=info.currency,
        day=day.day,
        day_start_equity=now_standing.day_start_equity,
        equity=info.equity,
        today_pnl=pnl,
        high_water_mark=now_standing.high_water_mark,
        drawdown_percent=now_standing.drawdown_percent,
        trades_today=trades_today,
        open_positions=len(positions),
        breaches=state.breaches,
        limits=_limits(profile, usage),
    )


def _limits(profile: RiskProfile, usage: dict[str, str]) -> list[LimitUsage]:
    settings = profile.model_dump(exclude_none=True, exclude={"updated_at", "on_breach"}, by_alias=True)
    if not profile.require_stop_loss:
        settings.pop("requireStopLoss", None)
    return [
        LimitUsage(limit=name, value=_setting(value), current=usage.get(name))
        for name, value in settings.items()
    ]


def _setting(value: object) -> str:
    """A limit as a trader reads it: 3%, 200, EURUSD, GBPUSD, Mon-Fri 08:00-17:00 Europe/London."""
    if isinstance(value, dict) and "timeZone" in value:
        windows = "; ".join(
            f"{', '.join(day[:3].title() for day in w['days'])} {w['from']:%H:%M}-{w['to']:%H:%M}"
            for w in value["windows"]
        )
        return f"{windows} ({value['timeZone']})"
    if isinstance(value, dict):  # the daily loss: an amount or a percent
        return f"{value['percent']}%" if "percent" in value else str(value["amount"])
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, bool):
        return "required"
    return str(value)


# Preview ----------------------------------------------------------------------------------------


class CheckOutcome(CamelModel):
    check: str
    passed: bool
    code: str | None = None
    message: str | None = None


class Preview(CamelModel):
    symbol: str
    volume: JsonDecimal
    price: JsonDecimal = Field(description="The price the order is judged at")
    stop_loss: JsonDecimal | None = None
    take_profit: JsonDecimal | None = None
    currency: str | None = None
    loss_at_stop_loss: JsonDecimal | None = None
    loss_at_stop_loss_percent: JsonDecimal | None = Field(default=None, description="% of equity")
    profit_at_take_profit: JsonDecimal | None = None
    profit_at_take_profit_percent: JsonDecimal | None = Field(default=None, description="% of equity")
    reward_risk: JsonDecimal | None = Field(
        default=None, description="Profit at the take profit over loss at the stop"
    )
    required_margin: JsonDecimal | None = None
    accepted: bool = Field(description="Whether the order would be accepted now")
    checks: list[CheckOutcome]


def preview(user_id: str, account_id: str, order: NewOrder, *, desk: TradeDesk) -> Preview:
    """What the order would do and every check it meets, without queueing anything."""
    account = desk.accounts.get(user_id, account_id)
    client, remote = desk.client(account), account.remote
    verdicts = Verdicts(collect=True)
    checked = desk.pretrade(account).new_order(order, verdicts)
    profile, state = desk.risk.read(account.id)
    has_stop_loss = checked.stop_loss is not None or order.trailing_stop_loss is not None
    facts = desk.gate.facts(
        account,
        client,
        profile,
        state,
        Entry(order.symbol, checked.volume, has_stop_loss, checked.risk_percent),
        now=datetime.now(UTC),
        open_positions=lambda: desk.positions.list_open(account.id),
    )
    outcomes = [
        CheckOutcome(check=v.check, passed=v.passed, code=v.code, message=v.message) for v in verdicts.results
    ]
    outcomes += [
        CheckOutcome(check=c.rule, passed=c.passed, code=None if c.passed else c.code, message=c.message)
        for c in entry_checks(profile, facts)
    ]
    market, volume = checked.market, checked.volume
    equity = market.account.equity
    profit = None
    if checked.take_profit is not None:
        per_lot = loss_per_lot(market, entry=checked.entry, stop_loss=checked.take_profit)
        profit = None if per_lot is None else (per_lot * volume).quantize(CENT)
    margin_per_lot = desk.market.margin_per_lot(
        client, remote, order.symbol, _side(order), Decimal(1), checked.entry
    )
    return Preview(
        symbol=order.symbol,
        volume=volume,
        price=checked.entry,
        stop_loss=checked.stop_loss,
        take_profit=checked.take_profit,
        currency=market.account.currency,
        loss_at_stop_loss=checked.risk_amount,
        loss_at_stop_loss_percent=checked.risk_percent,
        profit_at_take_profit=profit,
        profit_at_take_profit_percent=(profit / equity * 100).quantize(CENT)
        if profit is not None and equity
        else None,
        reward_risk=(profit / checked.risk_amount).quantize(CENT) if profit and checked.risk_amount else None,
        required_margin=None if margin_per_lot is None else (margin_per_lot * volume).quantize(CENT),
        accepted=all(outcome.passed for outcome in outcomes),
        checks=outcomes,
    )


def _side(order: NewOrder) -> str:
    return "ORDER_TYPE_BUY" if "BUY" in order.action_type else "ORDER_TYPE_SELL"

"""One delivery of a trade message: run the executor for it, with the account's MetaApi token.

Whatever stops a delivery is handled here, never left to the queue's visibility timeout (a FIFO
group waits while its message is in flight, and with it the account's closes): a request whose
broker cannot be reached any more (its account unlinked, its token removed) ends with a reason,
and a failure of our own side comes back after a short wait."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from mtcore.accounts import AccountNotReady, AccountUndeployed, PlatformTokenMissing, UserTokenMissing
from mtcore.errors import NotFound, TradeRefused
from mtcore.metaapi.errors import MetaApiError
from mtcore.metaapi.models import TradeAction
from mtcore.observability import logger, metrics
from mtcore.redelivery import RetryLater
from mtcore.risk import refuse_entry
from mtcore.trading import checks
from mtcore.trading.executor import Done, Executor, Parked, Recheck, RetrySoon, SignalResolver, Step
from mtcore.trading.models import SETTLED, TradeKind, TradeStatus
from mtcore.trading.pretrade import PreTrade
from mtcore.trading.risk_gate import Entry, RiskGate, only_reduces

_CHANGED_THE_ACCOUNT = frozenset({TradeStatus.EXECUTED, TradeStatus.PARTIAL, TradeStatus.PLACED})
_CHANGES_ORDERS = frozenset({TradeKind.PLACE, TradeKind.MODIFY_ORDER, TradeKind.CANCEL})
# Waits before a delivery that failed on our side comes back: 5 s, doubling, at most a minute.
_FIRST_RETRY_S, _MAX_RETRY_S = 5.0, 60.0

if TYPE_CHECKING:
    from collections.abc import Callable

    from mtcore.accounts import Account, AccountsRepository, MetaApiAccess
    from mtcore.market import MarketCache
    from mtcore.metaapi.client import MetaApiClient
    from mtcore.portfolio import OrdersRepository, PositionsRepository
    from mtcore.risk import RiskRepository
    from mtcore.trading.acceptance import TradeDesk
    from mtcore.trading.models import TradeRequest
    from mtcore.trading.queue import TradeMessage
    from mtcore.trading.repository import TradesRepository
    from mtcore.trading.timer import TradeTimer


def execute_trade_message(
    message: TradeMessage,
    *,
    receive_count: int,
    desk: TradeDesk,
    orders: OrdersRepository,
    signals: Callable[[Account, TradeDesk], SignalResolver] | None = None,
    timer: TradeTimer | None = None,
) -> Step | None:
    """The delivery's outcome; None for a message whose request is not stored (nothing to do).
    `signals` resolves webhook signals on an account (the signals capability, above this one);
    `timer` hands a parked request back when it is due (without one, the sweeper does)."""
    trades = desk.trades

    def execute() -> Step | None:
        request = trades.find(message.account_id, message.trade_id)
        if request is None:
            logger.warning(
                "trade message without a stored request dropped", extra={"tradeId": message.trade_id}
            )
            return None
        if request.status in SETTLED:
            return Done(request)
        reached = broker_for(request, accounts=desk.accounts, trades=trades, access=desk.access)
        if not isinstance(reached, tuple):
            return Done(reached)
        account, client = reached
        executor = Executor(
            trades=trades,
            client=client,
            remote=account.remote,
            recheck=_recheck(account, desk.market, desk.risk, desk.gate),
            signals=signals(account, desk) if signals else None,
            deliveries=receive_count,
        )
        step = executor.run(request.account_id, request.id)
        if isinstance(step, Done) and step.request.status in _CHANGED_THE_ACCOUNT:
            # The dashboard shows the result at once, not at the next scheduled sync.
            try:
                _refresh(step, executor, desk.positions, orders)
            except MetaApiError as error:
                logger.warning("store not refreshed after a trade", extra={"errorCode": error.code})
        return step

    try:
        step = execute()
    except Exception as error:
        # Our own side failed (DynamoDB, Secrets Manager, a request moved meanwhile): back soon;
        # after the queue's maxReceiveCount the dead-letter consumer concludes it.
        wait = min(_MAX_RETRY_S, _FIRST_RETRY_S * 2 ** max(0, receive_count - 1))
        logger.exception("trade delivery failed", extra={"tradeId": message.trade_id, "retryIn": wait})
        metrics.add_metric(name="TradeDeliveriesFailed", unit=MetricUnit.Count, value=1)
        raise RetryLater(wait, f"trade {message.trade_id} failed on our side") from error
    if isinstance(step, RetrySoon):
        raise RetryLater(step.seconds, f"trade {step.request.id} retries")
    if isinstance(step, Parked) and timer is not None:
        timer.try_wake_at(step.request.account_id, step.request.id, step.until, now=datetime.now(UTC))
    return step


def broker_for(
    request: TradeRequest, *, accounts: AccountsRepository, trades: TradesRepository, access: MetaApiAccess
) -> tuple[Account, MetaApiClient] | TradeRequest:
    """The request's account and a MetaApi client with its token; or, when the broker cannot be
    reached for it any more (the account unlinked, undeployed, its token removed), the request
    ended."""
    try:
        account = accounts.get(request.user_id, request.account_id)
        account.ensure_ready()
        return account, access.for_account(account)
    except NotFound:
        return _settle_unreachable(trades, request, TradeStatus.CANCELED, "the account was unlinked")
    except (UserTokenMissing, PlatformTokenMissing, AccountNotReady, AccountUndeployed) as missing:
        return _settle_unreachable(trades, request, TradeStatus.REJECTED, missing.message)


def _settle_unreachable(
    trades: TradesRepository, request: TradeRequest, status: TradeStatus, why: str
) -> TradeRequest:
    """One never sent (or parked) ends `status`; one that may have reached the broker is
    UNKNOWN, as nobody can check it now."""
    if request.status is TradeStatus.SENDING:
        status = TradeStatus.UNKNOWN
        reason = f"{why} while it was being sent: whether it executed cannot be checked until it can be"
    else:
        reason = f"not sent: {why}"
    logger.warning("trade ended without the broker", extra={"tradeId": request.id, "status": status.value})
    return trades.transition(
        request,
        status,
        expected={request.status},
        at=datetime.now(UTC),
        note=reason,
        changes={"reason": reason},
    )


def _refresh(
    step: Done, executor: Executor, positions: PositionsRepository, orders: OrdersRepository
) -> None:
    """Store what the broker now holds. What the trade closed or canceled is left for the sync it
    sets off, which records it with its closing deal or history order."""
    request = step.request
    client = executor.client.with_budget(executor.policy.read_budget_seconds)
    read_at = datetime.now(UTC)
    if request.kind in _CHANGES_ORDERS:
        live_orders = client.orders(executor.remote)
        orders.store_open(
            request.account_id, live_orders, orders.list_open(request.account_id), read_at=read_at
        )
        return
    if step.positions is not None and step.positions_read_at is not None:
        live, read_at = step.positions, step.positions_read_at
    else:
        live = client.positions(executor.remote)
    positions.store_open(request.account_id, live, positions.list_open(request.account_id), read_at=read_at)


def _recheck(account: Account, market: MarketCache, risk: RiskRepository, gate: RiskGate) -> Recheck:
    """Between acceptance and sending, a session may close, a symbol turn close-only or the spread
    widen past the account's limit (market orders), and any entry may go over a risk limit (the
    open positions, today's loss, the trading window): checked again, from the container's cache
    and, for position limits, the positions as they are now. An entry sized at execution is sized
    again first. A failed read for the market checks leaves them to the broker; one for sizing or
    the risk rules is retried, never sent unsized or unjudged."""
    remote = account.remote

    def recheck(request: TradeRequest, client: MetaApiClient) -> TradeRefused | dict[str, Any]:
        if request.symbol is None:
            return {}
        changes: dict[str, Any] = {}
        volume, risk_percent = request.volume or Decimal(0), request.risk_percent
        pretrade = PreTrade(client=client, account=account, cache=market)
        is_market, is_buy = request.kind is TradeKind.OPEN, request.action is TradeAction.BUY
        positions = cache(lambda: client.positions(remote, refresh=True))  # read once, if at all
        try:
            if is_market:
                try:
                    spec = market.specification(client, remote, request.symbol)
                    price = market.price(client, remote, request.symbol)
                    checks.trade_mode_allows(spec, is_buy=is_buy, opening=True)
                    checks.market_open(spec, market.broker_now(client, remote))
                    checks.spread_within(spec, price, account.max_spread_points)
                except MetaApiError:
                    pass  # the broker judges these when it arrives
            if request.size_at == "execution" and request.sizing is not None:
                volume, sized = pretrade.resize(request, request.symbol, request.sizing)
                risk_percent = sized.risk_percent
                changes = {"volume": volume, "risk_amount": sized.risk_amount, "risk_percent": risk_percent}
            # What the risk rules read must be read: an entry is never sent unjudged (a MetaApi
            # error here reaches the executor, which tries again shortly).
            if (
                is_market
                and pretrade.nets_positions()
                and only_reduces(positions(), request.symbol, is_buy, volume)
            ):
                return changes
            profile, state = risk.read(account.id)
            has_stop_loss = request.stop_loss is not None or request.trailing_stop_loss is not None
            facts = gate.facts(
                account,
                client,
                profile,
                state,
                Entry(request.symbol, volume, has_stop_loss, risk_percent),
                now=datetime.now(UTC),
                open_positions=positions,
                count_trades=False,  # this request is one of today's already
            )
            refuse_entry(profile, facts)
        except TradeRefused as refusal:
            return refusal
        return changes

    return recheck

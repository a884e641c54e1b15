"""One delivery of a trade message: run the executor for it, with the account's MetaApi token."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mtcore.errors import TradeRefused
from mtcore.metaapi.errors import MetaApiError
from mtcore.metaapi.models import TradeAction
from mtcore.observability import logger
from mtcore.trades import checks
from mtcore.trades.executor import Done, Executor, RetrySoon, Step
from mtcore.trades.models import TradeKind, TradeStatus

_CHANGED_THE_ACCOUNT = frozenset({TradeStatus.EXECUTED, TradeStatus.PARTIAL, TradeStatus.PLACED})
_CHANGES_ORDERS = frozenset({TradeKind.PLACE, TradeKind.MODIFY_ORDER, TradeKind.CANCEL})

if TYPE_CHECKING:
    from mtcore.logic.metaapi_access import MetaApiAccess
    from mtcore.metaapi.cache import MarketCache
    from mtcore.metaapi.client import MetaApiClient
    from mtcore.models import Account
    from mtcore.repositories.accounts import AccountsRepository
    from mtcore.repositories.positions import OrdersRepository, PositionsRepository
    from mtcore.repositories.trades import TradesRepository
    from mtcore.trades.models import TradeRequest
    from mtcore.trades.queue import TradeMessage, TradeQueue


class RetryLater(Exception):
    """The message stays in the queue and comes back after the visibility set for it."""


def execute_trade_message(
    message: TradeMessage,
    receipt_handle: str,
    *,
    accounts: AccountsRepository,
    trades: TradesRepository,
    queue: TradeQueue,
    access: MetaApiAccess,
    positions: PositionsRepository,
    orders: OrdersRepository,
    market: MarketCache,
) -> Step:
    request = trades.get(message.account_id, message.trade_id)
    account = accounts.get(request.user_id, request.account_id)
    client = access.for_account(account)
    executor = Executor(
        trades=trades,
        client=client,
        remote=(account.metaapi_account_id, account.region),
        trading_halted=account.trading_halted,
        recheck=_market_recheck(account, client, market),
    )
    step = executor.run(request.account_id, request.id)
    if isinstance(step, Done) and step.request.status in _CHANGED_THE_ACCOUNT:
        # The dashboard shows the result at once, not at the next scheduled sync.
        try:
            _refresh(step, executor, positions, orders)
        except MetaApiError as error:
            logger.warning("store not refreshed after a trade", extra={"errorCode": error.code})
    if isinstance(step, RetrySoon):
        queue.retry_in(receipt_handle, step.seconds)
        raise RetryLater(f"trade {request.id} retries in {step.seconds:.0f} s")
    return step


def _refresh(
    step: Done, executor: Executor, positions: PositionsRepository, orders: OrdersRepository
) -> None:
    """Store what the broker now holds. What the trade closed or canceled is left for the sync it
    sets off, which records it with its closing deal or history order."""
    request = step.request
    if request.kind in _CHANGES_ORDERS:
        live_orders = executor.client.orders(executor.remote)
        orders.store_open(request.account_id, live_orders, orders.list_open(request.account_id))
        return
    live = step.positions if step.positions is not None else executor.client.positions(executor.remote)
    positions.store_open(request.account_id, live, positions.list_open(request.account_id))


def _market_recheck(
    account: Account, client: MetaApiClient, market: MarketCache
) -> Callable[[TradeRequest], str | None]:
    """Between acceptance and sending, a session may close, a symbol turn close-only or the
    spread widen past the account's limit: checked again from the container's cache."""
    remote = (account.metaapi_account_id, account.region)

    def recheck(request: TradeRequest) -> str | None:
        if request.symbol is None:
            return None
        try:
            spec = market.specification(client, remote, request.symbol)
            price = market.price(client, remote, request.symbol)
            checks.trade_mode_allows(spec, is_buy=request.action is TradeAction.BUY, opening=True)
            checks.market_open(spec, market.broker_now(client, remote))
            checks.spread_within(spec, price, account.max_spread_points)
        except TradeRefused as refusal:
            return f"{refusal.code}: {refusal.message}"
        except MetaApiError:
            return None  # the broker judges it when it arrives
        return None

    return recheck

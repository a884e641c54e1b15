"""One delivery of a trade message: run the executor for it, with the account's MetaApi token."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mtcore.metaapi.errors import MetaApiError
from mtcore.observability import logger
from mtcore.trades.executor import Done, Executor, RetrySoon, Step
from mtcore.trades.models import TradeStatus

if TYPE_CHECKING:
    from mtcore.logic.metaapi_access import MetaApiAccess
    from mtcore.repositories.accounts import AccountsRepository
    from mtcore.repositories.positions import PositionsRepository
    from mtcore.repositories.trades import TradesRepository
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
) -> Step:
    request = trades.get(message.account_id, message.trade_id)
    account = accounts.get(request.user_id, request.account_id)
    executor = Executor(
        trades=trades,
        client=access.for_account(account),
        remote=(account.metaapi_account_id, account.region),
        trading_halted=account.trading_halted,
    )
    step = executor.run(request.account_id, request.id)
    if isinstance(step, Done) and step.request.status in (TradeStatus.EXECUTED, TradeStatus.PARTIAL):
        # The dashboard shows the new position at once, not at the next scheduled sync.
        try:
            live = executor.client.positions(executor.remote)
            positions.store_open(account.id, live, positions.list_open(account.id))
        except MetaApiError as error:
            logger.warning("positions not refreshed after a trade", extra={"errorCode": error.code})
    if isinstance(step, RetrySoon):
        queue.retry_in(receipt_handle, step.seconds)
        raise RetryLater(f"trade {request.id} retries in {step.seconds:.0f} s")
    return step

"""Reads of an account's trade requests. Every read starts by proving the account belongs to the
caller."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Protocol

from pydantic import Field

from mtcore.models import CamelModel
from mtcore.trading.models import SETTLED, TradeRequest, TradeStatus

if TYPE_CHECKING:
    from mtcore.accounts import AccountsRepository
    from mtcore.trading.repository import TradesRepository

MAX_WAIT_SECONDS = 10
# Between reads of a waited-for trade: soon after the accept (a market order often settles within
# a few hundred milliseconds), then every 0.2 s.
POLL_SECONDS = (0.05, 0.1, 0.2)


class TradeWatch(Protocol):
    def wait(self, seconds: float) -> None:
        """Returns once the trade may have been written since the last return (or since the watch
        began), or after `seconds`."""


class TradeWrites(Protocol):
    """Where a wait for a trade hears that the trade may have been written."""

    def watch(self, account_id: str, trade_id: str) -> AbstractContextManager[TradeWatch]: ...


class _Polling:
    def __init__(self) -> None:
        self._waits = 0

    def wait(self, seconds: float) -> None:
        time.sleep(min(seconds, POLL_SECONDS[min(self._waits, len(POLL_SECONDS) - 1)]))
        self._waits += 1


class PolledTradeWrites:
    """DynamoDB tells the API nothing of a write, so a wait reads the trade again after a pause."""

    @contextmanager
    def watch(self, account_id: str, trade_id: str) -> Iterator[TradeWatch]:
        yield _Polling()


_trade_writes: TradeWrites = PolledTradeWrites()


def hear_trade_writes_from(writes: TradeWrites) -> None:
    """Where every wait of this process hears of trade writes (the local stack hears them from its
    emulator); polling by default."""
    global _trade_writes
    _trade_writes = writes


def get_trade(
    user_id: str,
    account_id: str,
    trade_id: str,
    *,
    wait_seconds: float = 0,
    accounts: AccountsRepository,
    trades: TradesRepository,
    writes: TradeWrites | None = None,
) -> TradeRequest:
    """The request now, or as soon as it settles within `wait_seconds` (at most 10)."""
    account = accounts.get(user_id, account_id)
    deadline = time.monotonic() + min(wait_seconds, MAX_WAIT_SECONDS)
    # Watched before the first read, so a write between a read and the wait is not missed.
    with (writes or _trade_writes).watch(account.id, trade_id) as watch:
        while True:
            request = trades.get(account.id, trade_id)
            remaining = deadline - time.monotonic()
            if request.status in SETTLED or remaining <= 0:
                return request
            watch.wait(remaining)


class TradePage(CamelModel):
    items: list[TradeRequest]
    next_token: str | None = Field(default=None, description="Pass as nextToken to read the next page")


def list_trades(
    user_id: str,
    account_id: str,
    *,
    status: TradeStatus | None,
    limit: int,
    next_token: str | None,
    accounts: AccountsRepository,
    trades: TradesRepository,
) -> TradePage:
    """The account's trade requests, newest first."""
    account = accounts.get(user_id, account_id)
    items, token = trades.list_for_account(account.id, status=status, limit=limit, next_token=next_token)
    return TradePage(items=items, next_token=token)

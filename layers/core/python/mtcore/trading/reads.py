"""Reads of an account's trade requests. Every read starts by proving the account belongs to the
caller."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydantic import Field

from mtcore.models import CamelModel
from mtcore.trading.models import SETTLED, TradeRequest, TradeStatus

if TYPE_CHECKING:
    from mtcore.accounts import AccountsRepository
    from mtcore.trading.repository import TradesRepository

MAX_WAIT_SECONDS = 10


def get_trade(
    user_id: str,
    account_id: str,
    trade_id: str,
    *,
    wait_seconds: float = 0,
    accounts: AccountsRepository,
    trades: TradesRepository,
) -> TradeRequest:
    """The request now, or as soon as it settles within `wait_seconds` (at most 10)."""
    account = accounts.get(user_id, account_id)
    deadline = time.monotonic() + min(wait_seconds, MAX_WAIT_SECONDS)
    while True:
        request = trades.get(account.id, trade_id)
        if request.status in SETTLED or time.monotonic() >= deadline:
            return request
        time.sleep(0.2)


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

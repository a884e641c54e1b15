"""Accepting trades: check, record a trade request, queue it. The executor does the rest."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from mtcore.errors import InvalidInput
from mtcore.logic.idempotency import Accepted, once
from mtcore.metaapi.models import TradeAction
from mtcore.models import CamelModel, JsonDecimal
from mtcore.trades.models import COMMENT_MAX, SETTLED, TradeKind, TradeRequest, TradeStatus

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from mtcore.logic.metaapi_access import MetaApiAccess
    from mtcore.models import Account
    from mtcore.repositories.accounts import AccountsRepository
    from mtcore.repositories.trades import TradesRepository
    from mtcore.trades.queue import TradeQueue

SYMBOL = r"^[A-Za-z0-9._#+-]{1,32}$"
MAX_WAIT_SECONDS = 10
Lots = Annotated[JsonDecimal, Field(gt=0, le=1000, max_digits=12, decimal_places=4, description="Lots")]
Price = Annotated[JsonDecimal, Field(gt=0, max_digits=20, decimal_places=10)]


class MarketOrder(CamelModel):
    symbol: Annotated[str, Field(pattern=SYMBOL, examples=["EURUSD"])]
    action_type: Literal[TradeAction.BUY, TradeAction.SELL]
    volume: Lots
    stop_loss: Price | None = None
    take_profit: Price | None = None
    comment: Annotated[str | None, Field(max_length=COMMENT_MAX, pattern=r"^[\x20-\x7e]*$")] = None
    magic_number: Annotated[int | None, Field(ge=0, le=2**31 - 1)] = None
    expires_in_seconds: Annotated[
        int | None, Field(ge=1, le=3600, description="Not sent after this long (default: the account's)")
    ] = None


def _enqueue(request: TradeRequest, trades: TradesRepository, queue: TradeQueue) -> Accepted:
    trades.put_new(request)
    queue.send(request)
    return Accepted(account_id=request.account_id, trade_id=request.id)


def place_market_order(
    user_id: str,
    account_id: str,
    order: MarketOrder,
    *,
    idempotency_key: str | None,
    accounts: AccountsRepository,
    trades: TradesRepository,
    queue: TradeQueue,
    context: LambdaContext | None = None,
) -> TradeRequest:
    account = accounts.get(user_id, account_id)

    def create() -> Accepted:
        now = datetime.now(UTC)
        request = TradeRequest(
            account_id=account.id,
            user_id=user_id,
            kind=TradeKind.OPEN,
            action=order.action_type,
            symbol=order.symbol,
            volume=order.volume,
            stop_loss=order.stop_loss,
            take_profit=order.take_profit,
            comment=order.comment,
            magic=order.magic_number,
            slippage_points=account.max_slippage_points,
            expires_at=now + timedelta(seconds=order.expires_in_seconds or account.order_expiry_seconds),
            created_at=now,
            updated_at=now,
        )
        return _enqueue(request, trades, queue)

    accepted = once(
        tenant=user_id,
        route=f"POST /accounts/{account.id}/orders",
        key=idempotency_key,
        body=order.model_dump(mode="json"),
        create=create,
        context=context,
    )
    return trades.get(accepted.account_id, accepted.trade_id)


def close_position(
    user_id: str,
    account_id: str,
    position_id: str,
    volume: Decimal | None,
    *,
    idempotency_key: str | None,
    accounts: AccountsRepository,
    trades: TradesRepository,
    queue: TradeQueue,
    access: MetaApiAccess,
    context: LambdaContext | None = None,
) -> TradeRequest:
    account = accounts.get(user_id, account_id)

    def create() -> Accepted:
        # The position as it is now: a close that is not acknowledged is later judged against it.
        position = access.for_account(account).position(_remote(account), position_id)
        if volume is not None and volume > position.volume:
            raise InvalidInput("query.volume", f"is more than the position's {position.volume} lots")
        partial = volume is not None and volume < position.volume
        now = datetime.now(UTC)
        request = TradeRequest(
            account_id=account.id,
            user_id=user_id,
            kind=TradeKind.CLOSE,
            action=TradeAction.POSITION_PARTIAL if partial else TradeAction.POSITION_CLOSE_ID,
            symbol=position.symbol,
            volume=volume if partial else None,
            position_id=position.id,
            position_volume=position.volume,
            expires_at=now + timedelta(seconds=account.order_expiry_seconds),
            created_at=now,
            updated_at=now,
        )
        return _enqueue(request, trades, queue)

    body: dict[str, Any] = {"positionId": position_id, "volume": None if volume is None else str(volume)}
    accepted = once(
        tenant=user_id,
        route=f"DELETE /accounts/{account.id}/positions",
        key=idempotency_key,
        body=body,
        create=create,
        context=context,
    )
    return trades.get(accepted.account_id, accepted.trade_id)


def close_positions(
    user_id: str,
    account_id: str,
    symbol: str | None,
    *,
    idempotency_key: str | None,
    accounts: AccountsRepository,
    trades: TradesRepository,
    queue: TradeQueue,
    access: MetaApiAccess,
    context: LambdaContext | None = None,
) -> TradeRequest:
    """Close every open position (or every one of a symbol): one child request per position,
    queued in order, then the parent, which settles from them."""
    account = accounts.get(user_id, account_id)

    def create() -> Accepted:
        open_now = access.for_account(account).positions(_remote(account))
        now = datetime.now(UTC)
        expires_at = now + timedelta(seconds=account.order_expiry_seconds)
        children = [
            TradeRequest(
                account_id=account.id,
                user_id=user_id,
                kind=TradeKind.CLOSE,
                action=TradeAction.POSITION_CLOSE_ID,
                symbol=position.symbol,
                position_id=position.id,
                position_volume=position.volume,
                expires_at=expires_at,
                created_at=now,
                updated_at=now,
            )
            for position in open_now
            if symbol is None or position.symbol == symbol
        ]
        parent = TradeRequest(
            account_id=account.id,
            user_id=user_id,
            kind=TradeKind.CLOSE_ALL,
            action=TradeAction.POSITION_CLOSE_ID,
            symbol=symbol,
            children=[child.id for child in children],
            created_at=now,
            updated_at=now,
        )
        # The parent is written first, so a crash leaves nothing unaccounted for: the sweeper
        # re-enqueues it, and a child never written counts as a position not closed.
        trades.put_new(parent)
        for child in children:
            _enqueue(child, trades, queue)
        return _enqueue_existing(parent, queue)

    accepted = once(
        tenant=user_id,
        route=f"DELETE /accounts/{account.id}/positions",
        key=idempotency_key,
        body={"symbol": symbol},
        create=create,
        context=context,
    )
    return trades.get(accepted.account_id, accepted.trade_id)


def _enqueue_existing(request: TradeRequest, queue: TradeQueue) -> Accepted:
    queue.send(request)
    return Accepted(account_id=request.account_id, trade_id=request.id)


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


def _remote(account: Account) -> tuple[str, str | None]:
    return account.metaapi_account_id, account.region

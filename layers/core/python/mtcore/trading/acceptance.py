"""Accepting trades: check, record a trade request, queue it. The executor does the rest."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import Field

from mtcore.accounts.access import MetaApiAccess, get_metaapi_access
from mtcore.accounts.repository import AccountsRepository, get_accounts_repository
from mtcore.errors import NotFound
from mtcore.ids import new_ulid
from mtcore.market.cache import MarketCache, get_market_cache
from mtcore.metaapi.errors import MetaApiNotFound
from mtcore.metaapi.models import Order, TradeAction
from mtcore.models import CamelModel
from mtcore.observability import logger, metrics
from mtcore.portfolio.open_items import OrdersRepository, get_orders_repository
from mtcore.trading.bodies import CloseBy, NewOrder, OrderChanges, PositionChanges, given, zero_if_none
from mtcore.trading.checks import MARKET
from mtcore.trading.idempotency import IdempotencyKeys, get_idempotency_keys
from mtcore.trading.models import SETTLED, TradeKind, TradeRequest, TradeStatus
from mtcore.trading.pretrade import PreTrade
from mtcore.trading.queue import TradeQueue, get_trade_queue
from mtcore.trading.repository import TradesRepository, get_trades_repository

if TYPE_CHECKING:
    from mtcore.accounts.models import Account
    from mtcore.metaapi.client import MetaApiClient

MAX_WAIT_SECONDS = 10


@dataclass
class TradeDesk:
    """What accepting a trade needs: the stores, the queue and MetaApi."""

    accounts: AccountsRepository
    trades: TradesRepository
    keys: IdempotencyKeys
    orders: OrdersRepository
    queue: TradeQueue
    access: MetaApiAccess
    market: MarketCache


def get_trade_desk() -> TradeDesk:
    return TradeDesk(
        accounts=get_accounts_repository(),
        trades=get_trades_repository(),
        keys=get_idempotency_keys(),
        orders=get_orders_repository(),
        queue=get_trade_queue(),
        access=get_metaapi_access(),
        market=get_market_cache(),
    )


def _accept(
    desk: TradeDesk,
    account: Account,
    *,
    route: str,
    key: str | None,
    body: dict[str, Any],
    build: Callable[[str], list[TradeRequest]],
) -> TradeRequest:
    """Build (checks included), record and queue a request under a new id, or with an
    Idempotency-Key under the id the key was first claimed for: a repeat answers the request the
    first call created (even one that failed or died after writing it) and creates it only if
    the first call never did. Checks run only while nothing is written yet, so a repeat answers
    the first request even if the market moved.

    `build(id)` answers the request, then any children it settles from."""
    if key is None:
        return _record(desk, build(new_ulid()))
    trade_id = desk.keys.claim(
        tenant=account.user_id, route=route, key=key, body=body, trade_id=new_ulid(), now=datetime.now(UTC)
    )
    existing = desk.trades.find(account.id, trade_id)
    if existing is None:
        return _record(desk, build(trade_id))
    _redeliver(desk, existing)
    return existing


def _record(desk: TradeDesk, built: list[TradeRequest]) -> TradeRequest:
    """Write the request, then its children (a crash in between leaves a parent that counts an
    unwritten child as a position not closed), then queue the children and the request."""
    request, children = built[0], built[1:]
    if not desk.trades.put_new(request):
        # A repeat of this call, running alongside, wrote it first: its answer is this one's.
        return desk.trades.get(request.account_id, request.id)
    for child in children:
        desk.trades.put_new(child)
    for queued in (*children, request):
        _deliver(desk, queued)
    return request


def _redeliver(desk: TradeDesk, request: TradeRequest) -> None:
    """A repeat finds its request written: queue what may not have been (the message's
    deduplication id makes a second send harmless)."""
    if request.status is not TradeStatus.QUEUED:
        return
    for child_id in request.children or []:
        child = desk.trades.find(request.account_id, child_id)
        if child is not None and child.status is TradeStatus.QUEUED:
            _deliver(desk, child)
    _deliver(desk, request)


def _deliver(desk: TradeDesk, request: TradeRequest) -> None:
    """Once written, a request is accepted: if the queue refuses its message now, the sweeper
    sends it (an unsent request is due for it a few minutes after it was written)."""
    if not desk.queue.send(request):
        logger.warning("trade not queued; the sweeper sends it", extra={"tradeId": request.id})
        metrics.add_metric(name="TradeSendsDeferred", unit=MetricUnit.Count, value=1)


def _request(
    account: Account, trade_id: str, kind: TradeKind, action: TradeAction, **fields: Any
) -> TradeRequest:
    now = datetime.now(UTC)
    return TradeRequest(
        id=trade_id,
        account_id=account.id,
        user_id=account.user_id,
        kind=kind,
        action=action,
        created_at=now,
        updated_at=now,
        **fields,
    )


def _client(desk: TradeDesk, account: Account) -> MetaApiClient:
    return desk.access.for_account(account)


def _pretrade(desk: TradeDesk, account: Account) -> PreTrade:
    return PreTrade(client=_client(desk, account), account=account, cache=desk.market)


# Orders -----------------------------------------------------------------------------------------


def place_order(
    user_id: str,
    account_id: str,
    order: NewOrder,
    *,
    idempotency_key: str | None,
    desk: TradeDesk,
) -> TradeRequest:
    """A market or pending order, checked against the symbol's rules, then queued. Only a market
    order expires: one not sent in time is never sent late."""
    account = desk.accounts.get(user_id, account_id)

    def build(trade_id: str) -> list[TradeRequest]:
        checked = _pretrade(desk, account).new_order(order)
        is_market = order.action_type in MARKET
        request = _request(
            account,
            trade_id,
            TradeKind.OPEN if is_market else TradeKind.PLACE,
            order.action_type,
            symbol=order.symbol,
            volume=checked.volume,
            requested_volume=order.volume if checked.volume != order.volume else None,
            open_price=order.open_price,
            stop_limit_price=order.stop_limit_price,
            stop_loss=checked.stop_loss,
            take_profit=checked.take_profit,
            expiration=order.expiration,
            trailing_stop_loss=order.trailing_stop_loss,
            filling_modes=list(order.filling_modes) if order.filling_modes else None,
            comment=order.comment,
            magic=order.magic_number,
            max_slippage_points=account.max_slippage_points if is_market else None,
            requested_price=checked.requested_price,
            pip_size=checked.pip_size,
        )
        if is_market:
            expiry = order.expires_in_seconds or account.order_expiry_seconds
            request.expires_at = request.created_at + timedelta(seconds=expiry)
        return [request]

    return _accept(
        desk,
        account,
        route=f"POST /accounts/{account.id}/orders",
        key=idempotency_key,
        body=order.model_dump(mode="json"),
        build=build,
    )


def list_orders(user_id: str, account_id: str, *, live: bool, desk: TradeDesk) -> list[Order]:
    """Stored pending orders, or (live) MetaApi's, which then refresh the store."""
    account = desk.accounts.get(user_id, account_id)
    stored = desk.orders.list_open(account.id)
    if not live:
        return stored
    read_at = datetime.now(UTC)
    current = _client(desk, account).orders(_remote(account))
    desk.orders.store_open(account.id, current, stored, read_at=read_at)
    return current


def _pending_order(desk: TradeDesk, account: Account, order_id: str) -> Order:
    try:
        return _client(desk, account).order(_remote(account), order_id)
    except MetaApiNotFound:
        raise NotFound(f"No pending order {order_id} on this account") from None


def modify_order(
    user_id: str,
    account_id: str,
    order_id: str,
    changes: OrderChanges,
    *,
    idempotency_key: str | None,
    desk: TradeDesk,
) -> TradeRequest:
    account = desk.accounts.get(user_id, account_id)

    def build(trade_id: str) -> list[TradeRequest]:
        pending = _pending_order(desk, account, order_id)
        targets = _pretrade(desk, account).order_change(pending, changes)
        # Only what was asked to change: the executor fills in the rest from the order as it is
        # when sent, so a change queued behind another never undoes it.
        request = _request(
            account,
            trade_id,
            TradeKind.MODIFY_ORDER,
            TradeAction.ORDER_MODIFY,
            symbol=pending.symbol,
            order_id=pending.id,
            open_price=targets.open_price if given(changes, "open_price") else None,
            stop_limit_price=targets.stop_limit_price if given(changes, "stop_limit_price") else None,
            stop_loss=zero_if_none(targets.stop_loss) if given(changes, "stop_loss") else None,
            take_profit=zero_if_none(targets.take_profit) if given(changes, "take_profit") else None,
            expiration=changes.expiration if given(changes, "expiration") else None,
        )
        return [request]

    return _accept(
        desk,
        account,
        route=f"PUT /accounts/{account.id}/orders/{order_id}",
        key=idempotency_key,
        body=changes.model_dump(mode="json", exclude_unset=True),
        build=build,
    )


def cancel_order(
    user_id: str,
    account_id: str,
    order_id: str,
    *,
    idempotency_key: str | None,
    desk: TradeDesk,
) -> TradeRequest:
    account = desk.accounts.get(user_id, account_id)

    def build(trade_id: str) -> list[TradeRequest]:
        pending = _pending_order(desk, account, order_id)
        _pretrade(desk, account).cancel(pending)
        return [
            _request(
                account,
                trade_id,
                TradeKind.CANCEL,
                TradeAction.ORDER_CANCEL,
                symbol=pending.symbol,
                order_id=pending.id,
            )
        ]

    return _accept(
        desk,
        account,
        route=f"DELETE /accounts/{account.id}/orders/{order_id}",
        key=idempotency_key,
        body={},
        build=build,
    )


# Positions --------------------------------------------------------------------------------------


def modify_position(
    user_id: str,
    account_id: str,
    position_id: str,
    changes: PositionChanges,
    *,
    idempotency_key: str | None,
    desk: TradeDesk,
) -> TradeRequest:
    account = desk.accounts.get(user_id, account_id)

    def build(trade_id: str) -> list[TradeRequest]:
        position = _client(desk, account).position(_remote(account), position_id)
        targets = _pretrade(desk, account).position_change(position, changes)
        # Only what was asked to change: the executor fills in the rest from the position as it is
        # when sent, so a change queued behind another never undoes it.
        request = _request(
            account,
            trade_id,
            TradeKind.MODIFY_POSITION,
            TradeAction.POSITION_MODIFY,
            symbol=position.symbol,
            position_id=position.id,
            stop_loss=zero_if_none(targets.stop_loss) if given(changes, "stop_loss") else None,
            take_profit=zero_if_none(targets.take_profit) if given(changes, "take_profit") else None,
            trailing_stop_loss=changes.trailing_stop_loss,
        )
        return [request]

    return _accept(
        desk,
        account,
        route=f"PUT /accounts/{account.id}/positions/{position_id}",
        key=idempotency_key,
        body=changes.model_dump(mode="json", exclude_unset=True),
        build=build,
    )


def close_position(
    user_id: str,
    account_id: str,
    position_id: str,
    volume: Decimal | None,
    *,
    idempotency_key: str | None,
    desk: TradeDesk,
) -> TradeRequest:
    account = desk.accounts.get(user_id, account_id)

    def build(trade_id: str) -> list[TradeRequest]:
        # The position as it is now: a close that is not acknowledged is later judged against it.
        position = _client(desk, account).position(_remote(account), position_id)
        part = _pretrade(desk, account).close(position, volume)
        request = _request(
            account,
            trade_id,
            TradeKind.CLOSE,
            TradeAction.POSITION_CLOSE_ID if part is None else TradeAction.POSITION_PARTIAL,
            symbol=position.symbol,
            volume=part,
            requested_volume=volume if part is not None and part != volume else None,
            position_id=position.id,
            position_volume=position.volume,
        )
        return [request]

    return _accept(
        desk,
        account,
        route=f"DELETE /accounts/{account.id}/positions/{position_id}",
        key=idempotency_key,
        body={"volume": None if volume is None else str(volume)},
        build=build,
    )


def close_by(
    user_id: str,
    account_id: str,
    position_id: str,
    body: CloseBy,
    *,
    idempotency_key: str | None,
    desk: TradeDesk,
) -> TradeRequest:
    """Close a position with an opposite one on the same symbol (hedging accounts only)."""
    account = desk.accounts.get(user_id, account_id)

    def build(trade_id: str) -> list[TradeRequest]:
        pretrade = _pretrade(desk, account)
        pretrade.hedging_required()
        client = _client(desk, account)
        position = client.position(_remote(account), position_id)
        try:
            opposite = client.position(_remote(account), body.close_by_position_id)
        except MetaApiNotFound:
            raise NotFound(f"No open position {body.close_by_position_id} on this account") from None
        pretrade.close_by(position, opposite)
        request = _request(
            account,
            trade_id,
            TradeKind.CLOSE_BY,
            TradeAction.POSITION_CLOSE_BY,
            symbol=position.symbol,
            position_id=position.id,
            position_volume=position.volume,
            close_by_position_id=opposite.id,
            close_by_volume=opposite.volume,
        )
        return [request]

    return _accept(
        desk,
        account,
        route=f"POST /accounts/{account.id}/positions/{position_id}/close-by",
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        build=build,
    )


def close_positions(
    user_id: str,
    account_id: str,
    symbol: str | None,
    *,
    idempotency_key: str | None,
    desk: TradeDesk,
) -> TradeRequest:
    """Close every open position (or every one of a symbol): one child request per position,
    queued in order, then the parent, which settles from them."""
    account = desk.accounts.get(user_id, account_id)

    def build(trade_id: str) -> list[TradeRequest]:
        open_now = _client(desk, account).positions(_remote(account))
        children = [
            _request(
                account,
                new_ulid(),
                TradeKind.CLOSE,
                TradeAction.POSITION_CLOSE_ID,
                symbol=position.symbol,
                position_id=position.id,
                position_volume=position.volume,
            )
            for position in open_now
            if symbol is None or position.symbol == symbol
        ]
        parent = _request(
            account,
            trade_id,
            TradeKind.CLOSE_ALL,
            TradeAction.POSITION_CLOSE_ID,
            symbol=symbol,
            children=[child.id for child in children],
        )
        return [parent, *children]

    return _accept(
        desk,
        account,
        route=f"DELETE /accounts/{account.id}/positions",
        key=idempotency_key,
        body={"symbol": symbol},
        build=build,
    )


def get_trade(
    user_id: str,
    account_id: str,
    trade_id: str,
    *,
    wait_seconds: float = 0,
    desk: TradeDesk,
) -> TradeRequest:
    """The request now, or as soon as it settles within `wait_seconds` (at most 10)."""
    account = desk.accounts.get(user_id, account_id)
    deadline = time.monotonic() + min(wait_seconds, MAX_WAIT_SECONDS)
    while True:
        request = desk.trades.get(account.id, trade_id)
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
    desk: TradeDesk,
) -> TradePage:
    """The account's trade requests, newest first."""
    account = desk.accounts.get(user_id, account_id)
    items, token = desk.trades.list_for_account(account.id, status=status, limit=limit, next_token=next_token)
    return TradePage(items=items, next_token=token)


def _remote(account: Account) -> tuple[str, str | None]:
    return account.metaapi_account_id, account.region

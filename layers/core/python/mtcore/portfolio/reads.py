"""Reads of an account's open positions and pending orders: the stored copies, or MetaApi's (which
then refresh the store). Every read starts by proving the account belongs to the caller."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from mtcore.accounts import Account, AccountsRepository, MetaApiAccess
    from mtcore.metaapi.models import Order, Position
    from mtcore.portfolio.open_items import ItemT, OpenItemsRepository, OrdersRepository, PositionsRepository


def list_positions(
    user_id: str,
    account_id: str,
    *,
    live: bool,
    accounts: AccountsRepository,
    positions: PositionsRepository,
    access: MetaApiAccess,
) -> list[Position]:
    """Stored positions, or (live) MetaApi's, which then refresh the store."""
    account = accounts.get(user_id, account_id)
    return _stored_or_live(
        account, positions, live, lambda: access.for_account(account).positions(account.remote)
    )


def get_position(
    user_id: str,
    account_id: str,
    position_id: str,
    *,
    live: bool,
    accounts: AccountsRepository,
    positions: PositionsRepository,
    access: MetaApiAccess,
) -> Position:
    account = accounts.get(user_id, account_id)
    if not live:
        return positions.get_open(account.id, position_id)
    read_at = datetime.now(UTC)
    current = access.for_account(account).position(account.remote, position_id)
    positions.store_open(account.id, [current], [], read_at=read_at)
    return current


def list_orders(
    user_id: str,
    account_id: str,
    *,
    live: bool,
    accounts: AccountsRepository,
    orders: OrdersRepository,
    access: MetaApiAccess,
) -> list[Order]:
    """Stored pending orders, or (live) MetaApi's, which then refresh the store."""
    account = accounts.get(user_id, account_id)
    return _stored_or_live(account, orders, live, lambda: access.for_account(account).orders(account.remote))


def _stored_or_live(
    account: Account, store: OpenItemsRepository[ItemT], live: bool, read: Callable[[], list[ItemT]]
) -> list[ItemT]:
    stored = store.list_open(account.id)
    if not live:
        return stored
    read_at = datetime.now(UTC)
    current = read()
    store.store_open(account.id, current, stored, read_at=read_at)
    return current

"""The reading half of a sync: what the broker holds for the account now, read in one pass."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from mtcore.metaapi.client import parsed_answer
from mtcore.metaapi.errors import MetaApiNotConnected
from mtcore.metaapi.models import Order, Position
from mtcore.metaapi.together import together
from mtcore.portfolio import Deal, HistoryOrder
from mtcore.sync.models import SYNC_LEASE, SyncType

if TYPE_CHECKING:
    from mtcore.accounts import Account
    from mtcore.metaapi.client import MetaApiClient
    from mtcore.metaapi.models import AccountInformation, RemoteAccount
    from mtcore.sync.state import SyncState

Remote = tuple[str, str | None]
ItemT = TypeVar("ItemT", Position, Order)

DEPLOYED = "DEPLOYED"
READS_INFO = frozenset({SyncType.FULL, SyncType.ACCOUNT_INFO})
READS_POSITIONS = frozenset({SyncType.FULL, SyncType.POSITIONS})
READS_ORDERS = frozenset({SyncType.FULL, SyncType.ORDERS})


@dataclass(frozen=True)
class SyncPolicy:
    lease: timedelta = SYNC_LEASE
    # History is read again from a little before the newest record stored: MetaApi can list a
    # record a moment after its time, and a re-read record is recognised, never stored twice.
    overlap: timedelta = timedelta(minutes=10)
    first_history: timedelta = timedelta(days=30)  # how far back an account's first sync reads
    # History is read up to a little past our clock: the broker's clock may run ahead of ours.
    read_ahead: timedelta = timedelta(minutes=1)
    first_failure_backoff: timedelta = timedelta(seconds=60)
    max_failure_backoff: timedelta = timedelta(hours=1)

    def failure_backoff(self, failures: int) -> timedelta:
        return min(self.first_failure_backoff * (1 << (failures - 1)), self.max_failure_backoff)


@dataclass(frozen=True)
class Reading:
    """What the broker answered, as of `at` (when the sync started reading)."""

    at: datetime
    remote: RemoteAccount
    connected: bool  # the terminal answered while connected: its lists can be diffed
    info: AccountInformation | None = None
    positions: list[Position] | None = None
    orders: list[Order] | None = None
    deals: list[Deal] | None = None
    history_orders: list[HistoryOrder] | None = None  # the time window's (the cursor moves by these)
    orders_found: list[HistoryOrder] = field(default_factory=list)  # looked up by ticket

    @property
    def disconnected(self) -> bool:
        """Deployed but not connected (an undeployed account is not a disconnection)."""
        return self.remote.state == DEPLOYED and not self.connected


@dataclass(frozen=True)
class Stored:
    """Our copies before the sync: None for kinds this sync type does not read."""

    positions: list[Position] | None
    orders: list[Order] | None


def read_account(
    client: MetaApiClient, kind: SyncType, account: Account, state: SyncState, stored: Stored, *,
    at: datetime, policy: SyncPolicy,
) -> Reading:  # fmt: skip
    """What the broker holds now, for this sync type; history only as far as judging what is gone
    needs, and deals and history orders since the cursors on a full sync.

    Two rounds of reads side by side: the lists (and a full sync's history since the cursors),
    then the account's connection state with whatever the lists showed to be missing."""
    remote: Remote = account.remote
    full = kind is SyncType.FULL
    first: list[Callable[[], Any]] = [
        (lambda: client.account_information(remote)) if kind in READS_INFO else _nothing,
        (lambda: client.positions(remote)) if kind in READS_POSITIONS else _nothing,
        (lambda: client.orders(remote)) if kind in READS_ORDERS else _nothing,
        (lambda: _deals_since(client, remote, _history_start(state.deals_cursor, at, policy), at, policy))
        if full
        else _nothing,
        (lambda: _read_history_orders(client, remote, state, at, policy)) if full else _nothing,
    ]
    try:
        info, positions, orders, deals, history_orders = together(first)
    except MetaApiNotConnected:
        return Reading(at, client.get_account(remote[0]), connected=False)
    gone_positions = missing(stored.positions, positions)
    known_done = {order.id for order in history_orders or []}
    gone_orders = [order for order in missing(stored.orders, orders) if order.id not in known_done]
    # Read after the lists: a terminal that reconnected while they were read shows it here.
    second: list[Callable[[], Any]] = [
        lambda: client.get_account(remote[0]),
        lambda: _deals_of_gone(client, remote, deals, gone_positions, state, at, policy),
        lambda: _done_orders(client, remote, gone_orders),
    ]
    provisioning, deals, orders_found = together(second)
    if not provisioning.connected:
        return Reading(at, provisioning, connected=False)
    return Reading(
        at,
        provisioning,
        connected=True,
        info=info,
        positions=positions,
        orders=orders,
        deals=deals,
        history_orders=history_orders,
        orders_found=orders_found,
    )


def _nothing() -> None:
    return None


def _deals_since(
    client: MetaApiClient, remote: Remote, start: datetime, at: datetime, policy: SyncPolicy
) -> list[Deal]:
    return parsed_answer(list[Deal], client.history_deals(remote, start, at + policy.read_ahead))


def _deals_of_gone(
    client: MetaApiClient,
    remote: Remote,
    deals: list[Deal] | None,
    gone_positions: Sequence[Position],
    state: SyncState,
    at: datetime,
    policy: SyncPolicy,
) -> list[Deal] | None:
    """The deals read since the cursor, and every deal since the opening of each position that is
    gone, so all deals of those positions are at hand to judge whether (and how) they closed.
    Read again only when a gone position opened before the window already read."""
    if not gone_positions:
        return deals
    read_from = _history_start(state.deals_cursor, at, policy)
    start = min(position.time - policy.overlap for position in gone_positions)
    if deals is not None and start >= read_from:
        return deals
    return _deals_since(client, remote, min(start, read_from), at, policy)


def _read_history_orders(
    client: MetaApiClient, remote: Remote, state: SyncState, at: datetime, policy: SyncPolicy
) -> list[HistoryOrder]:
    start = _history_start(state.history_orders_cursor, at, policy)
    raw = client.history_orders(remote, start, at + policy.read_ahead)
    return parsed_answer(list[HistoryOrder], raw)


def _history_start(cursor: datetime | None, at: datetime, policy: SyncPolicy) -> datetime:
    if cursor is None:
        return at - policy.first_history
    return cursor - policy.overlap


def _done_orders(client: MetaApiClient, remote: Remote, orders: Sequence[Order]) -> list[HistoryOrder]:
    """The history orders of pending orders that are gone, looked up by ticket: however long
    ago they were placed, only their own history tells whether they were filled or canceled."""
    found = [answer for order in orders for answer in client.history_orders_by_ticket(remote, order.id)]
    return parsed_answer(list[HistoryOrder], found)


def missing(stored: list[ItemT] | None, live: Sequence[ItemT] | None) -> list[ItemT]:
    """Stored items the broker no longer lists (none when either list was not read)."""
    if stored is None or live is None:
        return []
    live_ids = {item.id for item in live}
    return [item for item in stored if item.id not in live_ids]

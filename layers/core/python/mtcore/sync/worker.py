"""One sync of one account with its broker: read what MetaApi holds, write only what changed.

The rules that keep the store true to the broker:
- one sync per account at a time (a short lease on the account's META item);
- lists are diffed only while the terminal is connected: a reconnecting terminal answers empty
  lists, which must not close anything;
- a position leaves the open list only when its closing deal is in the history, an order only
  when its history order is; otherwise it stays and the sync is `partial`;
- every position and order write is conditional on the stored copy having been read earlier, so
  a slow sync never undoes a newer one;
- a 429 pauses every sync worker (never the executor) until MetaApi's advised time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from mtcore.accounts import UserTokenMissing, get_accounts_repository, get_metaapi_access
from mtcore.metaapi.client import parsed_answer
from mtcore.metaapi.errors import MetaApiError, MetaApiNotConnected, MetaApiRateLimited
from mtcore.metaapi.models import Order, Position
from mtcore.observability import logger
from mtcore.portfolio import (
    ClosedPosition,
    Deal,
    HistoryOrder,
    changed,
    get_history_repository,
    get_orders_repository,
    get_positions_repository,
)
from mtcore.sync.models import SyncLog, SyncMessage, SyncStatus, SyncType
from mtcore.sync.state import get_sync_state_repository

if TYPE_CHECKING:
    from mtcore.accounts import Account, AccountsRepository
    from mtcore.metaapi.client import MetaApiClient
    from mtcore.metaapi.models import AccountInformation, RemoteAccount
    from mtcore.portfolio import HistoryRepository, OrdersRepository, PositionsRepository
    from mtcore.sync.state import SyncState, SyncStateRepository

Remote = tuple[str, str | None]
ItemT = TypeVar("ItemT", Position, Order)

DEPLOYED, CONNECTED = "DEPLOYED", "CONNECTED"
_READS_INFO = frozenset({SyncType.FULL, SyncType.ACCOUNT_INFO})
_READS_POSITIONS = frozenset({SyncType.FULL, SyncType.POSITIONS})
_READS_ORDERS = frozenset({SyncType.FULL, SyncType.ORDERS})
# Account fields copied from account information, by Account field name.
_INFO_FIELDS = (
    "balance",
    "equity",
    "margin",
    "free_margin",
    "margin_level",
    "leverage",
    "currency",
    "margin_mode",
    "broker",
)


class SyncBusy(Exception):
    """Another worker holds this account's lease: deliver the message again later."""

    def __init__(self, account_id: str) -> None:
        super().__init__(f"account {account_id} is being synced by another worker")
        self.account_id = account_id


class SyncBackedOff(Exception):
    """MetaApi rate-limited a sync: every sync waits until `until` (deliver the message then)."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"syncs wait for MetaApi's rate limit until {until.isoformat()}")
        self.until = until


@dataclass(frozen=True)
class SyncPolicy:
    lease: timedelta = timedelta(seconds=60)
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
class _Reading:
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


@dataclass
class _Tally:
    synced: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> None:
        self.failed += 1
        self.problems.append(problem)


@dataclass(frozen=True)
class _Stored:
    """Our copies before the sync: None for kinds this sync type does not read."""

    positions: list[Position] | None
    orders: list[Order] | None


class SyncWorker:
    def __init__(
        self,
        *,
        state: SyncStateRepository,
        accounts: AccountsRepository,
        positions: PositionsRepository,
        orders: OrdersRepository,
        history: HistoryRepository,
        metaapi: Callable[[Account], MetaApiClient],
        clock: Callable[[], datetime],
        policy: SyncPolicy | None = None,
    ) -> None:
        """`metaapi` gives the client for an account (its owner's token or the platform's): the
        worker learns whose account it is only from the META item it leases."""
        self._state = state
        self._accounts = accounts
        self._positions = positions
        self._orders = orders
        self._history = history
        self._metaapi = metaapi
        self._clock = clock
        self._policy = policy or SyncPolicy()

    def run(self, message: SyncMessage) -> SyncLog:
        """Sync the account and store the log. Raises SyncBackedOff or SyncBusy before reading
        anything, and NotFound when the account is no longer linked."""
        started = self._clock()
        until = self._state.backoff_until()
        if until is not None and until > started:
            raise SyncBackedOff(until)
        state = self._state.take_lease(
            message.account_id, message.sync_id, now=started, until=started + self._policy.lease
        )
        if state is None:
            raise SyncBusy(message.account_id)
        try:
            log, final_state = self._sync(message, state, started)
        except BaseException:
            self._release(message, state)
            raise
        self._release(message, final_state)
        self._state.put_log(log)
        logger.info(
            "account synced",
            extra={
                "accountId": log.account_id,
                "syncId": log.sync_id,
                "status": log.status.value,
                "itemsSynced": log.items_synced,
                "itemsFailed": log.items_failed,
            },
        )
        return log

    # The run ----------------------------------------------------------------------------------

    def _sync(self, message: SyncMessage, state: SyncState, started: datetime) -> tuple[SyncLog, SyncState]:
        account = self._accounts.get(state.user_id, message.account_id)
        if message.type is SyncType.HISTORY:
            return self._import_history(message, account, state, started)
        stored = _Stored(
            positions=self._positions.list_open(account.id) if message.type in _READS_POSITIONS else None,
            orders=self._orders.list_open(account.id) if message.type in _READS_ORDERS else None,
        )
        try:
            reading = self._read(message.type, account, state, stored)
        except MetaApiRateLimited as error:
            return self._rate_limited(message, started, error), state
        except (MetaApiError, UserTokenMissing) as error:
            failures = state.sync_failures + 1
            problem = f"{error.code}: {error.message}"
            failed = state.model_copy(
                update={
                    "sync_failures": failures,
                    "sync_error": problem,
                    "sync_backoff_until": self._clock() + self._policy.failure_backoff(failures),
                }
            )
            return self._log(message, started, SyncStatus.ERROR, error_message=problem), failed
        tally = self._apply(account, stored, reading)
        status = SyncStatus.PARTIAL if tally.failed or not reading.connected else SyncStatus.SUCCESS
        if not reading.connected:
            tally.problems.append(
                f"the terminal is {reading.remote.connection_status or 'not connected'} "
                f"({reading.remote.state}): positions and orders were left as they were"
            )
        log = self._log(
            message,
            started,
            status,
            tally=tally,
            connection_status=reading.remote.connection_status,
            disconnection_started=reading.disconnected and state.disconnected_since is None,
        )
        return log, self._settled_state(message.type, state, reading, tally)

    def _rate_limited(self, message: SyncMessage, started: datetime, error: MetaApiRateLimited) -> SyncLog:
        """A 429 pauses every sync worker until MetaApi's advised time; this sync ends in error."""
        until = self._clock() + timedelta(seconds=error.retry_after_seconds)
        self._state.back_off(until)
        problem = f"{error.code}: MetaApi asked every sync to wait until {until.isoformat()}"
        return self._log(message, started, SyncStatus.ERROR, error_message=problem)

    def _import_history(
        self, message: SyncMessage, account: Account, state: SyncState, started: datetime
    ) -> tuple[SyncLog, SyncState]:
        """An older range of deals and history orders, read in pages of 1000 and stored once;
        the stored history then starts at the range's start."""
        start, end = message.start or started, message.end or started
        client = self._metaapi(account)
        remote: Remote = (account.metaapi_account_id, account.region)
        try:
            deals = parsed_answer(list[Deal], client.history_deals(remote, start, end))
            orders = parsed_answer(list[HistoryOrder], client.history_orders(remote, start, end))
        except MetaApiRateLimited as error:
            return self._rate_limited(message, started, error), state
        except (MetaApiError, UserTokenMissing) as error:
            return self._log(
                message, started, SyncStatus.ERROR, error_message=f"{error.code}: {error.message}"
            ), state
        tally = _Tally()
        tally.synced += self._history.add_deals(account.id, deals)
        tally.synced += self._history.add_history_orders(account.id, orders)
        covered = start if state.history_from is None else min(state.history_from, start)
        return self._log(message, started, SyncStatus.SUCCESS, tally=tally), state.model_copy(
            update={"history_from": covered}
        )

    def _release(self, message: SyncMessage, state: SyncState) -> None:
        if not self._state.release(message.account_id, message.sync_id, state):
            # The lease ran out and another sync took the account: its state stands.
            logger.warning(
                "sync lease lost before the end",
                extra={"accountId": message.account_id, "syncId": message.sync_id},
            )

    # Reading ----------------------------------------------------------------------------------

    def _read(self, kind: SyncType, account: Account, state: SyncState, stored: _Stored) -> _Reading:
        client = self._metaapi(account)
        remote: Remote = (account.metaapi_account_id, account.region)
        at = self._clock()
        try:
            info = client.account_information(remote) if kind in _READS_INFO else None
            positions = client.positions(remote) if kind in _READS_POSITIONS else None
            orders = client.orders(remote) if kind in _READS_ORDERS else None
        except MetaApiNotConnected:
            return _Reading(at, client.get_account(account.metaapi_account_id), connected=False)
        # Read after the lists: a terminal that reconnected while they were read shows it here.
        provisioning = client.get_account(account.metaapi_account_id)
        if not provisioning.connected:
            return _Reading(at, provisioning, connected=False)
        gone_positions = _missing(stored.positions, positions)
        deals = history_orders = None
        if kind is SyncType.FULL or gone_positions:
            deals = self._read_deals(client, remote, state, at, gone_positions)
        if kind is SyncType.FULL:
            history_orders = self._read_history_orders(client, remote, state, at)
        known_done = {order.id for order in history_orders or []}
        gone_orders = [order for order in _missing(stored.orders, orders) if order.id not in known_done]
        return _Reading(
            at,
            provisioning,
            connected=True,
            info=info,
            positions=positions,
            orders=orders,
            deals=deals,
            history_orders=history_orders,
            orders_found=_done_orders(client, remote, gone_orders),
        )

    def _read_deals(
        self,
        client: MetaApiClient,
        remote: Remote,
        state: SyncState,
        at: datetime,
        gone_positions: Sequence[Position],
    ) -> list[Deal]:
        """Deals since the cursor, and since the opening of every position that is gone, so
        every deal of those positions is at hand to judge whether (and how) they closed."""
        start = min(
            [self._history_start(state.deals_cursor, at)]
            + [position.time - self._policy.overlap for position in gone_positions]
        )
        raw = client.history_deals(remote, start, at + self._policy.read_ahead)
        return parsed_answer(list[Deal], raw)

    def _read_history_orders(
        self, client: MetaApiClient, remote: Remote, state: SyncState, at: datetime
    ) -> list[HistoryOrder]:
        start = self._history_start(state.history_orders_cursor, at)
        raw = client.history_orders(remote, start, at + self._policy.read_ahead)
        return parsed_answer(list[HistoryOrder], raw)

    def _history_start(self, cursor: datetime | None, at: datetime) -> datetime:
        if cursor is None:
            return at - self._policy.first_history
        return cursor - self._policy.overlap

    # Writing ----------------------------------------------------------------------------------

    def _apply(self, account: Account, stored: _Stored, reading: _Reading) -> _Tally:
        tally = _Tally()
        if reading.connected:
            tally.synced += self._history.add_deals(account.id, reading.deals or [])
            done_orders = [*(reading.history_orders or []), *reading.orders_found]
            tally.synced += self._history.add_history_orders(account.id, done_orders)
            if stored.positions is not None and reading.positions is not None:
                self._apply_positions(account.id, stored.positions, reading, tally)
            if stored.orders is not None and reading.orders is not None:
                self._apply_orders(account.id, stored.orders, reading, done_orders, tally)
        changes = _account_changes(account, reading)
        if self._state.update_account(account, changes, synced_at=reading.at) and changes:
            tally.synced += 1
        return tally

    def _apply_positions(
        self, account_id: str, stored: list[Position], reading: _Reading, tally: _Tally
    ) -> None:
        live = reading.positions or []
        known = {position.id: position for position in stored}
        for position in live:
            if changed(known.get(position.id), position) and self._positions.put_if_newer(
                account_id, position, snapshot_at=reading.at
            ):
                tally.synced += 1
        for position in _missing(stored, live):
            deals = [deal for deal in reading.deals or [] if deal.position_id == position.id]
            closed = closed_position(position, deals)
            if closed is None:
                tally.fail(f"position {position.id} is gone but its closing deal is not in the history yet")
            elif self._history.close_position(account_id, closed, snapshot_at=reading.at):
                tally.synced += 1

    def _apply_orders(
        self,
        account_id: str,
        stored: list[Order],
        reading: _Reading,
        done_orders: list[HistoryOrder],
        tally: _Tally,
    ) -> None:
        live = reading.orders or []
        known = {order.id: order for order in stored}
        for order in live:
            if changed(known.get(order.id), order) and self._orders.put_if_newer(
                account_id, order, snapshot_at=reading.at
            ):
                tally.synced += 1
        done = {order.id for order in done_orders}
        for order in _missing(stored, live):
            if order.id not in done:
                tally.fail(f"order {order.id} is gone but not in the order history yet")
            elif self._orders.remove_if_older(account_id, order.id, snapshot_at=reading.at):
                tally.synced += 1

    def _settled_state(self, kind: SyncType, state: SyncState, reading: _Reading, tally: _Tally) -> SyncState:
        """The account's sync state after a sync that reached MetaApi: failures forgotten,
        cursors moved to the newest history stored, the disconnection episode opened or closed."""
        changes: dict[str, Any] = {
            "state": reading.remote.state,
            "sync_failures": 0,
            "sync_error": None,
            "sync_backoff_until": None,
            # A full sync looks at everything again, so only it clears an earlier request.
            "sync_needs_look": tally.failed > 0 or (state.sync_needs_look and kind is not SyncType.FULL),
            "disconnected_since": (state.disconnected_since or reading.at) if reading.disconnected else None,
        }
        if kind is SyncType.FULL and reading.connected and state.history_from is None:
            changes["history_from"] = reading.at - self._policy.first_history
        if reading.deals:
            changes["deals_cursor"] = _later(state.deals_cursor, max(deal.time for deal in reading.deals))
        if reading.history_orders:
            newest = max(order.done_at for order in reading.history_orders)
            changes["history_orders_cursor"] = _later(state.history_orders_cursor, newest)
        return state.model_copy(update=changes)

    def _log(
        self,
        message: SyncMessage,
        started: datetime,
        status: SyncStatus,
        *,
        tally: _Tally | None = None,
        error_message: str | None = None,
        connection_status: str | None = None,
        disconnection_started: bool = False,
    ) -> SyncLog:
        finished = self._clock()
        tally = tally or _Tally()
        return SyncLog(
            sync_id=message.sync_id,
            account_id=message.account_id,
            type=message.type,
            reason=message.reason,
            status=status,
            items_synced=tally.synced,
            items_failed=tally.failed,
            error_message=error_message or "; ".join(tally.problems) or None,
            duration_ms=max(0, round((finished - started).total_seconds() * 1000)),
            started_at=started,
            finished_at=finished,
            connection_status=connection_status,
            disconnection_started=disconnection_started,
        )


def closed_position(position: Position, deals: Sequence[Deal]) -> ClosedPosition | None:
    """The position as closed by its deals, or None while the history does not show it closed:
    no closing deal yet, or (when its opening deal is known) volume still open, as after a
    partial close."""
    closing = sorted((deal for deal in deals if deal.closes), key=lambda deal: deal.time)
    if not closing:
        return None
    if any(deal.opens for deal in deals) and sum(deal.signed_volume for deal in deals) != 0:
        return None
    last = closing[-1]
    kept = position.model_dump(exclude={"current_price", "unrealized_profit", "profit", "swap", "commission"})
    return ClosedPosition.model_validate(
        kept
        | {
            "closePrice": last.price,
            "closeTime": last.time,
            "closingDealIds": [deal.id for deal in closing],
            "profit": sum((deal.profit for deal in deals if deal.realizes), Decimal(0)),
            "swap": sum((deal.swap for deal in deals), Decimal(0)),
            "commission": sum((deal.commission for deal in deals), Decimal(0)),
        }
    )


def _done_orders(client: MetaApiClient, remote: Remote, orders: Sequence[Order]) -> list[HistoryOrder]:
    """The history orders of pending orders that are gone, looked up by ticket: however long
    ago they were placed, only their own history tells whether they were filled or canceled."""
    found = [answer for order in orders for answer in client.history_orders_by_ticket(remote, order.id)]
    return parsed_answer(list[HistoryOrder], found)


def _missing(stored: list[ItemT] | None, live: Sequence[ItemT] | None) -> list[ItemT]:
    """Stored items the broker no longer lists (none when either list was not read)."""
    if stored is None or live is None:
        return []
    live_ids = {item.id for item in live}
    return [item for item in stored if item.id not in live_ids]


def _later(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current


def _account_changes(account: Account, reading: _Reading) -> dict[str, Any]:
    """Account fields whose value differs from what the broker answered. Balances and the like
    only from a connected terminal: a reconnecting one may answer stale figures."""
    fresh: dict[str, Any] = {
        "state": reading.remote.state,
        "connection_status": reading.remote.connection_status,
    }
    if reading.connected and reading.info is not None:
        fresh |= {name: getattr(reading.info, name) for name in _INFO_FIELDS}
    return {
        name: value for name, value in fresh.items() if value is not None and getattr(account, name) != value
    }


def _utc_now() -> datetime:
    return datetime.now(UTC)


def get_sync_worker(clock: Callable[[], datetime] = _utc_now) -> SyncWorker:
    return SyncWorker(
        state=get_sync_state_repository(),
        accounts=get_accounts_repository(),
        positions=get_positions_repository(),
        orders=get_orders_repository(),
        history=get_history_repository(),
        metaapi=get_metaapi_access().for_account,
        clock=clock,
    )

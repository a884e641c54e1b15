"""One sync of one account with its broker: read what MetaApi holds, write only what changed.

The rules that keep the store true to the broker:
- one sync per account at a time (a short lease on the account item, taken by the scheduler's
  claim for a scheduled sync);
- lists are diffed only while the terminal is connected: a reconnecting terminal answers empty
  lists, which must not close anything;
- a position leaves the open list only when its closing deal is in the history, an order only
  when its history order is; otherwise it stays and the sync is `partial`;
- every position and order write is conditional on the stored copy having been read earlier, so
  a slow sync never undoes a newer one;
- a 429 pauses every sync worker (never the executor) until MetaApi's advised time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from mtcore.accounts import (
    AccountNotReady,
    AccountUndeployed,
    UserTokenMissing,
    get_accounts_repository,
    get_metaapi_access,
)
from mtcore.errors import NotFound
from mtcore.metaapi.client import parsed_answer
from mtcore.metaapi.errors import MetaApiError, MetaApiRateLimited
from mtcore.metaapi.models import Order, Position
from mtcore.observability import logger
from mtcore.portfolio import (
    Deal,
    HistoryOrder,
    get_history_repository,
    get_orders_repository,
    get_positions_repository,
)
from mtcore.sync.models import SyncLog, SyncMessage, SyncReason, SyncStatus, SyncType
from mtcore.sync.reading import READS_ORDERS, READS_POSITIONS, Reading, Stored, SyncPolicy, read_account
from mtcore.sync.state import get_sync_state_repository
from mtcore.sync.writing import Tally, account_changes, write_reading

if TYPE_CHECKING:
    from mtcore.accounts import Account, AccountsRepository
    from mtcore.metaapi.client import MetaApiClient
    from mtcore.portfolio import HistoryRepository, OrdersRepository, PositionsRepository
    from mtcore.sync.state import Leased, SyncState, SyncStateRepository

Remote = tuple[str, str | None]
# Account fields a quiet sync may still update: they move with prices, not with what happened.
_MOVING_FIGURES = frozenset({"equity", "margin", "free_margin", "margin_level"})
ItemT = TypeVar("ItemT", Position, Order)


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
        leased = self._lease(message, started)
        account, state = leased.account, leased.state
        try:
            outcome = self._sync(message, account, state, started)
        except BaseException:
            self._finish(message, account, state)
            raise
        self._record(message, account, outcome)
        log = outcome.log
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

    def _lease(self, message: SyncMessage, now: datetime) -> Leased:
        """The scheduler's claim when it still holds, else a lease of the sync's own."""
        user_id = message.user_id or self._accounts.owner_of(message.account_id)
        if user_id is None:
            raise NotFound(f"No account {message.account_id}")
        leased = None
        if message.claimed:
            leased = self._state.claimed(user_id, message.account_id, message.sync_id, now=now)
        if leased is None:
            leased = self._state.take_lease(
                user_id, message.account_id, message.sync_id, now=now, until=now + self._policy.lease
            )
        if leased is None:
            raise SyncBusy(message.account_id)
        return leased

    def _record(self, message: SyncMessage, account: Account, outcome: _Outcome) -> None:
        """The sync's one write of the account item; a log of its own unless it found nothing
        changed on schedule, which only extends the run of unchanged syncs on the account item."""
        log, open_run = outcome.log, outcome.state.quiet_syncs
        quiet = _is_quiet(message, outcome) and (open_run is None or open_run.type is log.type)
        ended = outcome.state.model_copy(update={"quiet_syncs": _joined(open_run, log) if quiet else None})
        if self._finish(message, account, ended, outcome.changes, synced_at=outcome.synced_at) and quiet:
            return
        if open_run is not None and not quiet:
            self._state.put_log(open_run)  # the run of unchanged syncs ends where this one begins
        self._state.put_log(log)

    # The run ----------------------------------------------------------------------------------

    def _sync(self, message: SyncMessage, account: Account, state: SyncState, started: datetime) -> _Outcome:
        try:
            account.ensure_ready()
        except (AccountNotReady, AccountUndeployed) as not_ready:
            # Undeployed (or being deployed) since this sync was asked for: it ends, explained.
            problem = f"{not_ready.code}: {not_ready.message}"
            return _Outcome(self._log(message, started, SyncStatus.ERROR, error_message=problem), state)
        if message.type is SyncType.HISTORY:
            log, imported = self._import_history(message, account, state, started)
            return _Outcome(log, imported)
        stored = Stored(
            positions=self._positions.list_open(account.id) if message.type in READS_POSITIONS else None,
            orders=self._orders.list_open(account.id) if message.type in READS_ORDERS else None,
        )
        try:
            client = self._metaapi(account)
            reading = read_account(
                client, message.type, account, state, stored, at=self._clock(), policy=self._policy
            )
        except MetaApiRateLimited as error:
            return _Outcome(self._rate_limited(message, started, error), state)
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
            return _Outcome(self._log(message, started, SyncStatus.ERROR, error_message=problem), failed)
        tally = write_reading(
            account, stored, reading, positions=self._positions, orders=self._orders, history=self._history
        )
        # Under the lease no other sync writes the account, so the stored lastSyncAt is current:
        # a read older than it (a clock behind) leaves the account as a newer read wrote it.
        newer = account.last_sync_at is None or reading.at > account.last_sync_at
        changes = account_changes(account, reading) if newer else {}
        tally.synced += bool(changes)
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
        settled = self._settled_state(message.type, state, reading, tally)
        return _Outcome(log, settled, changes, synced_at=reading.at if newer else None)

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
        remote: Remote = account.remote
        try:
            deals = parsed_answer(list[Deal], client.history_deals(remote, start, end))
            orders = parsed_answer(list[HistoryOrder], client.history_orders(remote, start, end))
        except MetaApiRateLimited as error:
            return self._rate_limited(message, started, error), state
        except (MetaApiError, UserTokenMissing) as error:
            return self._log(
                message, started, SyncStatus.ERROR, error_message=f"{error.code}: {error.message}"
            ), state
        tally = Tally()
        tally.synced += self._history.add_deals(account.id, deals)
        tally.synced += self._history.add_history_orders(account.id, orders)
        covered = start if state.history_from is None else min(state.history_from, start)
        return self._log(message, started, SyncStatus.SUCCESS, tally=tally), state.model_copy(
            update={"history_from": covered}
        )

    def _finish(
        self,
        message: SyncMessage,
        account: Account,
        state: SyncState,
        changes: dict[str, Any] | None = None,
        *,
        synced_at: datetime | None = None,
    ) -> bool:
        if self._state.finish(account, message.sync_id, state, changes, synced_at=synced_at):
            return True
        # The lease ran out and another sync took the account: its state stands.
        logger.warning(
            "sync lease lost before the end",
            extra={"accountId": message.account_id, "syncId": message.sync_id},
        )
        return False

    def _settled_state(self, kind: SyncType, state: SyncState, reading: Reading, tally: Tally) -> SyncState:
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
        tally: Tally | None = None,
        error_message: str | None = None,
        connection_status: str | None = None,
        disconnection_started: bool = False,
    ) -> SyncLog:
        finished = self._clock()
        tally = tally or Tally()
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


@dataclass(frozen=True)
class _Outcome:
    """How a sync ended: its log, the sync state to store, and what it read into the account."""

    log: SyncLog
    state: SyncState
    changes: dict[str, Any] = field(default_factory=dict)
    synced_at: datetime | None = None


def _is_quiet(message: SyncMessage, outcome: _Outcome) -> bool:
    """A scheduled sync that found nothing to report: no position, order or history written, no
    failure, and of the account only its moving figures (floating profit moves equity)."""
    log = outcome.log
    return (
        message.reason is SyncReason.SCHEDULE
        and log.status is SyncStatus.SUCCESS
        and log.items_failed == 0
        and not log.disconnection_started
        and set(outcome.changes) <= _MOVING_FIGURES
        and log.items_synced == int(bool(outcome.changes))
    )


def _joined(run: SyncLog | None, log: SyncLog) -> SyncLog:
    """The run of unchanged syncs with one more: it keeps its start, adds up the account updates
    and takes the newest's id, end, duration and connection status."""
    if run is None:
        return log
    return run.model_copy(
        update={
            "sync_id": log.sync_id,
            "runs": run.runs + 1,
            "items_synced": run.items_synced + log.items_synced,
            "finished_at": log.finished_at,
            "duration_ms": log.duration_ms,
            "connection_status": log.connection_status,
        }
    )


def _later(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current


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

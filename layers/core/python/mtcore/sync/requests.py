"""Syncs asked for through the API, and their logs."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import Field

from mtcore.errors import NotFound
from mtcore.metaapi.errors import MetaApiError
from mtcore.models import CamelModel
from mtcore.observability import logger
from mtcore.redelivery import RetryLater
from mtcore.sync.audit import audit_account
from mtcore.sync.models import SYNC_SETTLED, SyncLog, SyncMessage, SyncReason, SyncStatus, SyncType
from mtcore.sync.queue import queue_requested
from mtcore.sync.reading import READS_INFO
from mtcore.sync.worker import SyncBackedOff, SyncBusy
from mtcore.trading import guard

if TYPE_CHECKING:
    from mtcore.accounts import AccountsRepository
    from mtcore.sync.queue import SyncQueue
    from mtcore.sync.state import SyncStateRepository
    from mtcore.sync.worker import SyncWorker
    from mtcore.trading import TradeDesk

MAX_WAIT_SECONDS = 10
# Another worker holds the account: look again once its sync has likely ended.
BUSY_RETRY_SECONDS = 15


class SyncLogPage(CamelModel):
    items: list[SyncLog]
    next_token: str | None = Field(default=None, description="Pass as nextToken to read the next page")


def request_sync(
    user_id: str,
    account_id: str,
    kind: SyncType,
    *,
    accounts: AccountsRepository,
    state: SyncStateRepository,
    queue: SyncQueue,
) -> SyncLog:
    """Queue a sync of the caller's account now; its log shows it queued until a worker runs it."""
    account = accounts.get(user_id, account_id)
    account.ensure_ready()
    message = SyncMessage(
        account_id=account.id, user_id=account.user_id, type=kind, reason=SyncReason.REQUEST
    )
    return queue_requested(message, state=state, queue=queue)


def get_sync(
    user_id: str,
    account_id: str,
    sync_id: str,
    *,
    wait_seconds: float = 0,
    accounts: AccountsRepository,
    state: SyncStateRepository,
) -> SyncLog:
    """The sync now, or as soon as it ends within `wait_seconds` (at most 10)."""
    account = accounts.get(user_id, account_id)
    deadline = time.monotonic() + min(wait_seconds, MAX_WAIT_SECONDS)
    while True:
        log = state.get_log(account, sync_id)
        if log.status in SYNC_SETTLED or time.monotonic() >= deadline:
            return log
        time.sleep(0.2)


def list_sync_logs(
    user_id: str,
    account_id: str,
    *,
    limit: int,
    next_token: str | None,
    accounts: AccountsRepository,
    state: SyncStateRepository,
) -> SyncLogPage:
    account = accounts.get(user_id, account_id)
    items, token = state.list_logs(account, limit=limit, next_token=next_token)
    return SyncLogPage(items=items, next_token=token)


class SyncsInBatch:
    """The accounts a full sync has read since this batch of messages arrived. Every message of
    the batch was sent before that sync started, so a trade's sync request for one of those
    accounts is already answered by it: a burst of trades on an account costs one sync, not one
    each. Syncs asked for through the API (a caller follows their log) and scheduled ones (each
    holds its claim) still run each."""

    def __init__(self) -> None:
        self._read: set[str] = set()

    def covers(self, message: SyncMessage) -> bool:
        return (
            message.reason is SyncReason.TRADE
            and message.type is SyncType.FULL
            and message.account_id in self._read
        )

    def ran(self, message: SyncMessage, log: SyncLog | None) -> None:
        if log is not None and log.type is SyncType.FULL and log.status is not SyncStatus.ERROR:
            self._read.add(message.account_id)


def run_sync_message(message: SyncMessage, *, worker: SyncWorker, desk: TradeDesk) -> SyncLog | None:
    """One sync from the queue, then the loss guards against the balance and equity it read; a
    full one then compares our trades with the broker's records. None when the account is no
    longer linked (nothing to sync). A sync that must wait (another worker holds the account,
    MetaApi's rate limit pauses every sync) comes back later."""
    try:
        log = worker.run(message)
    except SyncBusy:
        raise RetryLater(BUSY_RETRY_SECONDS, f"account {message.account_id} is being synced") from None
    except SyncBackedOff as paused:
        wait = (paused.until - datetime.now(UTC)).total_seconds() + 1
        raise RetryLater(wait, f"sync is paused until {paused.until.isoformat()}") from None
    except NotFound:
        logger.info("account no longer linked: nothing to sync")
        return None
    if log.status is SyncStatus.ERROR or log.type not in READS_INFO:
        return log
    owner = desk.accounts.owner_of(message.account_id)
    if owner is None:
        return log
    account = desk.accounts.get(owner, message.account_id)
    try:
        if account.connection_status == "CONNECTED":  # balances from a live terminal
            guard(account, desk=desk, now=datetime.now(UTC))
        if log.type is SyncType.FULL:
            audit_account(
                account,
                client=desk.client(account),
                accounts=desk.accounts,
                trades=desk.trades,
                positions=desk.positions,
                history=desk.history,
                now=datetime.now(UTC),
            )
    except MetaApiError as error:
        logger.warning("loss guards or account audit left for the next sync", extra={"errorCode": error.code})
    return log

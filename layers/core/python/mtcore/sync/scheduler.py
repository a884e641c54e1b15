"""One scheduler tick: take the accounts whose sync is due and queue one message per account."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from mtcore.metaapi.errors import MetaApiError
from mtcore.observability import logger
from mtcore.sync.models import SYNC_LEASE, SyncMessage, SyncReason, SyncType
from mtcore.sync.queue import MAX_JITTER_SECONDS

if TYPE_CHECKING:
    from mtcore.accounts import DueAccount, SyncScheduleRepository
    from mtcore.metaapi.client import MetaApiClient
    from mtcore.sync.queue import SyncQueue

DEPLOYED = "DEPLOYED"
_PAGE = 1000
TAKERS = 16
_SKIPPED, _TAKEN_ELSEWHERE = "skipped", "taken elsewhere"


@dataclass(frozen=True)
class Tick:
    due: int = 0
    queued: int = 0
    skipped: int = 0  # not deployed, backing off after failures, or being synced right now
    taken_elsewhere: int = 0  # another tick took it first
    backed_off_until: datetime | None = None


@dataclass
class SyncScheduler:
    schedule: SyncScheduleRepository
    queue: SyncQueue
    platform: MetaApiClient
    # MetaApi's rate limit, hit by any sync worker, pauses every sync until then.
    backoff_until: Callable[[], datetime | None]
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    lease: timedelta = SYNC_LEASE

    def tick(self) -> Tick:
        now = self.clock()
        until = self.backoff_until()
        if until is not None and until > now:
            logger.info("sync paused by MetaApi's rate limit", extra={"until": until.isoformat()})
            return Tick(backed_off_until=until)
        due = self.schedule.due(now)
        if not due:
            return Tick()
        states = self._deployment_states()
        # Taking an account is one conditional write; thousands run side by side, not in a row.
        with ThreadPoolExecutor(max_workers=TAKERS) as pool:
            outcomes = list(pool.map(lambda account: self._take(account, states, now), due))
        messages = [outcome for outcome in outcomes if isinstance(outcome, SyncMessage)]
        skipped = outcomes.count(_SKIPPED)
        taken_elsewhere = outcomes.count(_TAKEN_ELSEWHERE)
        queued = self.queue.send_spread(messages)
        tick = Tick(due=len(due), queued=queued, skipped=skipped, taken_elsewhere=taken_elsewhere)
        logger.info("sync tick", extra={"due": tick.due, "queued": queued, "skipped": skipped})
        return tick

    def _take(self, account: DueAccount, states: dict[str, str], now: datetime) -> SyncMessage | str:
        state = states.get(account.metaapi_account_id, account.state)
        if state is not None and state != account.state:
            self.schedule.note_state(account, state)
        backing_off = account.backoff_until is not None and account.backoff_until > now
        next_due = now + timedelta(seconds=account.interval_seconds)
        if backing_off and account.backoff_until is not None:
            next_due = max(next_due, account.backoff_until)
        if state != DEPLOYED or backing_off:
            return _SKIPPED if self.schedule.take(account, next_due) else _TAKEN_ELSEWHERE
        message = SyncMessage(
            account_id=account.account_id,
            user_id=account.user_id,
            type=SyncType.FULL,
            reason=SyncReason.SCHEDULE,
            claimed=True,
        )
        # The claim is the sync's lease, held while the message waits out its spread-out delay.
        until = now + timedelta(seconds=MAX_JITTER_SECONDS) + self.lease
        if self.schedule.claim(account, next_due, sync_id=message.sync_id, now=now, until=until):
            return message
        # A sync running now (one asked for, or after a trade) stands for this one.
        return _SKIPPED if self.schedule.take(account, next_due) else _TAKEN_ELSEWHERE

    def _deployment_states(self) -> dict[str, str]:
        """Every platform account's deployment state from one listing (a page per 1000
        accounts), instead of one call per account. Accounts read with their owner's token keep
        the state their last sync saw."""
        states: dict[str, str] = {}
        offset = 0
        try:
            while True:
                page = self.platform.list_accounts(offset=offset, limit=_PAGE)
                states |= {remote.id: remote.state for remote in page if remote.state}
                if len(page) < _PAGE:
                    return states
                offset += _PAGE
        except MetaApiError as error:
            logger.warning("deployment states not refreshed", extra={"errorCode": error.code})
            return states

"""A sync of one account with its broker: what asks for it, and what it leaves behind."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import Field

from mtcore.ids import new_ulid
from mtcore.models import CamelModel

# How long one sync may hold an account before another may take it.
SYNC_LEASE = timedelta(seconds=60)


class SyncType(StrEnum):
    FULL = "full"  # account information, positions, pending orders, deals and history orders
    POSITIONS = "positions"
    ORDERS = "orders"
    ACCOUNT_INFO = "account_info"
    HISTORY = "history"  # deals and history orders of an older range, imported once


class SyncReason(StrEnum):
    SCHEDULE = "schedule"
    TRADE = "trade"  # a trade changed the account
    REQUEST = "request"  # asked for through the API


class SyncStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    PARTIAL = "partial"  # done, but something was left for another look (e.g. a closing deal not yet seen)
    ERROR = "error"


SYNC_SETTLED = frozenset({SyncStatus.SUCCESS, SyncStatus.PARTIAL, SyncStatus.ERROR})


class SyncMessage(CamelModel):
    """One message on the sync queue: sync this account, this way."""

    account_id: str
    # The owner, so the worker goes straight to the account item; looked up when absent.
    user_id: str | None = None
    sync_id: str = Field(default_factory=new_ulid)
    type: SyncType = SyncType.FULL
    reason: SyncReason = SyncReason.SCHEDULE
    # The scheduler's claim of the account is this sync's lease: the worker only checks it.
    claimed: bool = False
    # For HISTORY: the range to import.
    start: datetime | None = None
    end: datetime | None = None


class SyncLog(CamelModel):
    """What one sync did, or what a run of unchanged scheduled syncs did (`runs` > 1, from
    `startedAt` of the first to `finishedAt` of the last, under the id of the last). Kept for a
    while (TTL), newest first per account."""

    sync_id: str
    account_id: str
    type: SyncType
    reason: SyncReason
    status: SyncStatus
    items_synced: int = 0
    items_failed: int = 0
    error_message: str | None = None
    duration_ms: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    connection_status: str | None = Field(
        default=None, description="The terminal's connection status this sync saw, e.g. CONNECTED"
    )
    disconnection_started: bool = Field(
        default=False,
        description="This sync found the deployed account disconnected, and the last one had not",
    )
    runs: int = Field(
        default=1, description="Syncs this entry stands for: unchanged scheduled syncs share one entry"
    )

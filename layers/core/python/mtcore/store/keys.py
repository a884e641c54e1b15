"""Single-table key shapes. Every item is owned by a user or by an account."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

ACCOUNT_SK_PREFIX = "ACCOUNT#"
OPEN_POSITION_PREFIX = "POS#OPEN#"
ORDER_PREFIX = "ORDER#"
META_SK = "META"
LINK_SK = "LINK"


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def account_sk(account_id: str) -> str:
    return f"{ACCOUNT_SK_PREFIX}{account_id}"


def account_pk(account_id: str) -> str:
    """The partition of everything that belongs to one account (meta, positions, orders, trades)."""
    return f"ACCOUNT#{account_id}"


def link_pk(metaapi_account_id: str) -> str:
    """One item per MetaApi account: it can be linked once, by one user."""
    return f"METAAPI#{metaapi_account_id}"


def trade_sk(request_id: str) -> str:
    return f"TRADE#{request_id}"


SYNC_SHARDS = 8


def sync_shard(account_id: str) -> str:
    """Accounts spread over a few partitions of the due-time index, so no one partition is hot."""
    return f"SYNC#{int(hashlib.sha256(account_id.encode()).hexdigest(), 16) % SYNC_SHARDS}"


def all_sync_shards() -> list[str]:
    return [f"SYNC#{number}" for number in range(SYNC_SHARDS)]


CLOSED_POSITION_PREFIX = "POS#CLOSED#"
DEAL_PREFIX = "DEAL#"
HISTORY_ORDER_PREFIX = "HORDER#"
SYNC_LOG_PREFIX = "SYNCLOG#"
SYNC_PK = "SYNC"
BACKOFF_SK = "BACKOFF"
# Sorts after every time written by sortable_time: the open end of a key range.
AFTER_ALL_TIMES = "~"


def sortable_time(instant: datetime) -> str:
    """UTC with microseconds always written: text order is time order, in sort keys and in
    conditions that compare stored times."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# The sweep index's partition attribute. An item carries it exactly while it is still being worked
# on (an unsettled trade request): such an item must outlive its account's records.
IN_FLIGHT_ATTRIBUTE = "sweepShard"


def closed_position_sk(close_time: datetime, position_id: str) -> str:
    return f"{CLOSED_POSITION_PREFIX}{sortable_time(close_time)}#{position_id}"


def deal_sk(time: datetime, deal_id: str) -> str:
    return f"{DEAL_PREFIX}{sortable_time(time)}#{deal_id}"


def history_order_sk(done_time: datetime, order_id: str) -> str:
    return f"{HISTORY_ORDER_PREFIX}{sortable_time(done_time)}#{order_id}"


def sync_log_sk(sync_id: str) -> str:
    """Sync ids are ULIDs, so these sort in the order the syncs were asked for."""
    return f"{SYNC_LOG_PREFIX}{sync_id}"

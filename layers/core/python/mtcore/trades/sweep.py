"""When an unsettled trade request should be looked at again if nothing else moved it.

Every unsettled request carries `sweepShard`/`sweepAt` (a sparse index); settled ones do not.
The sweeper re-enqueues requests whose `sweepAt` has passed: a parked request that is due, or a
queued or sending one whose message was lost (a crash between the write and the send)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from mtcore.trades.models import TradeStatus

SHARDS = 8
# Longer than a delivery can take (the executor's timeout plus a visibility timeout).
LOST_AFTER = timedelta(minutes=3)


def sweep_shard(account_id: str) -> str:
    return f"SWEEP#{int(hashlib.sha256(account_id.encode()).hexdigest(), 16) % SHARDS}"


def sweep_at(status: TradeStatus, at: datetime, not_before: datetime | None) -> datetime:
    """A parked request when it is due (a retry, or a later look at what a send did); any other
    when its message would have been handled by now."""
    if not_before is not None and (
        status is TradeStatus.WAITING or (status is TradeStatus.SENDING and not_before > at)
    ):
        return not_before
    return at + LOST_AFTER


def all_shards() -> list[str]:
    return [f"SWEEP#{number}" for number in range(SHARDS)]

"""The sweeper: nothing accepted is lost between two writes, and nothing parked is forgotten.

Every unsettled request carries `sweepShard`/`sweepAt` (a sparse index); settled ones do not.
The sweeper re-enqueues requests whose `sweepAt` has passed: a parked request that is due, or a
queued or sending one whose message was lost (a crash between the write and the send)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mtcore.observability import logger
from mtcore.trading.models import SETTLED, TradeStatus

if TYPE_CHECKING:
    from mtcore.trading.queue import TradeQueue
    from mtcore.trading.repository import TradesRepository

SHARDS = 8
# Longer than a delivery can take (the executor's timeout plus a visibility timeout).
LOST_AFTER = timedelta(minutes=3)
# Time for the trade timer's hand-back to have been delivered and acted on.
TIMER_GRACE = timedelta(seconds=15)


def sweep_shard(account_id: str) -> str:
    return f"SWEEP#{int(hashlib.sha256(account_id.encode()).hexdigest(), 16) % SHARDS}"


def sweep_at(status: TradeStatus, at: datetime, not_before: datetime | None) -> datetime:
    """A parked request shortly after it is due (a retry, or a later look at what a send did):
    the trade timer hands it back at `not_before`, the sweeper only what the timer did not. Any
    other when its message would have been handled by now."""
    if not_before is not None and (
        status is TradeStatus.WAITING or (status is TradeStatus.SENDING and not_before > at)
    ):
        return not_before + TIMER_GRACE
    return at + LOST_AFTER


def all_shards() -> list[str]:
    return [f"SWEEP#{number}" for number in range(SHARDS)]


def sweep(now: datetime, *, trades: TradesRepository, queue: TradeQueue) -> int:
    """Re-enqueue every unsettled request whose sweep time has passed; answers how many."""
    requeued = 0
    for shard in all_shards():
        for account_id, trade_id in trades.due_for_sweep(shard, now):
            request = trades.get(account_id, trade_id)
            # Postpone first: if the request moved meanwhile, its new state decides, not this sweep.
            if request.status in SETTLED or not trades.postpone_sweep(request, now + LOST_AFTER):
                continue
            queue.send_again(request, now)
            logger.info("trade re-enqueued", extra={"tradeId": trade_id, "status": request.status.value})
            requeued += 1
    return requeued

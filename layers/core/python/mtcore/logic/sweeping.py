"""The sweeper: nothing accepted is lost between two writes, and nothing parked is forgotten."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mtcore.observability import logger
from mtcore.trades.models import SETTLED
from mtcore.trades.sweep import LOST_AFTER, all_shards

if TYPE_CHECKING:
    from datetime import datetime

    from mtcore.repositories.trades import TradesRepository
    from mtcore.trades.queue import TradeQueue


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

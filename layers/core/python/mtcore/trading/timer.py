"""Parked trades sent on time. The order queue is FIFO, and a FIFO queue delays no single
message, so a trade parked until its `notBefore` (MetaApi's 429 with its advised wait, a later
look at what a send did) waits in a standard queue under the message's own delay (at most 15
minutes; longer waits go round again) and is handed back to its account's group when due.
The sweeper stays the safety net: it sends again what the timer did not."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mtcore.aws import sqs_client
from mtcore.models import CamelModel
from mtcore.observability import logger
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from mtcore.trading.queue import TradeQueue

MAX_DELAY_SECONDS = 900  # SQS's longest message delay
# SQS delays by whole seconds, rounded up: a message may come back this early only by a clock skew.
_EARLY = timedelta(seconds=1)


class TimedTrade(CamelModel):
    account_id: str
    trade_id: str
    not_before: datetime


class TradeTimer:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def wake_at(self, account_id: str, trade_id: str, not_before: datetime, *, now: datetime) -> None:
        """The trade back in its account's group at `not_before`."""
        delay = math.ceil((not_before - now).total_seconds())
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=TimedTrade(
                account_id=account_id, trade_id=trade_id, not_before=not_before
            ).model_dump_json(),
            DelaySeconds=min(MAX_DELAY_SECONDS, max(0, delay)),
        )

    def try_wake_at(self, account_id: str, trade_id: str, not_before: datetime, *, now: datetime) -> None:
        """As wake_at; when SQS cannot take it, the sweeper sends the trade once it is due."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.wake_at(account_id, trade_id, not_before, now=now)
        except (BotoCoreError, ClientError) as error:
            logger.warning(
                "parked trade left to the sweeper", extra={"tradeId": trade_id, "error": str(error)}
            )


def hand_back(timed: TimedTrade, *, now: datetime, timer: TradeTimer, queue: TradeQueue) -> None:
    """A timed trade that is due goes back to its account's group; one that is not (a wait over
    SQS's longest delay) waits again for the rest."""
    if timed.not_before - now > _EARLY:
        timer.wake_at(timed.account_id, timed.trade_id, timed.not_before, now=now)
        return
    # Keyed by the due time: the same timer message delivered twice is one order message.
    queue.hand_back(timed.account_id, timed.trade_id, timed.not_before)


def get_trade_timer() -> TradeTimer:
    queue_url = get_settings().trade_timer_queue_url
    if not queue_url:
        raise RuntimeError("TRADE_TIMER_QUEUE_URL is not configured")
    return TradeTimer(sqs_client(), queue_url)

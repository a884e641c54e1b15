"""The daily summary per account, at its broker's day end: the day's P&L, trades closed, win rate
and largest loss, published on the bus as a `DailySummary` event that the notifiers deliver like
any other (so it reaches each channel once, as the owner's preferences say)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mtcore.errors import DomainError
from mtcore.notifications.models import Kind
from mtcore.observability import logger
from mtcore.portfolio import realized_since
from mtcore.risk import trading_day

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

    from mtcore.accounts import DueAccount, SyncScheduleRepository
    from mtcore.notifications.repository import NotificationsRepository
    from mtcore.trading import TradeDesk

SOURCE = "mt-backend.notifications"
# The schedule runs hourly: a day that ended within this long is summed up now.
WINDOW = timedelta(hours=1)
# Every scheduled account, whenever it is due next.
_ALL = timedelta(days=3650)


@dataclass(frozen=True)
class DaySummary:
    date: str
    pnl: Decimal
    trades: int
    wins: int
    largest_loss: Decimal | None

    def detail(self, user_id: str, account_id: str, currency: str | None) -> dict[str, Any]:
        return {
            "userId": user_id,
            "accountId": account_id,
            "date": self.date,
            "pnl": float(self.pnl),
            "trades": self.trades,
            "wins": self.wins,
            "winRate": round(100 * self.wins / self.trades) if self.trades else None,
            "largestLoss": float(self.largest_loss) if self.largest_loss is not None else None,
            "currency": currency,
        }


def summed_up(booked: list[Decimal], date: str) -> DaySummary:
    losses = [amount for amount in booked if amount < 0]
    return DaySummary(
        date=date,
        pnl=sum(booked, Decimal(0)),
        trades=len(booked),
        wins=sum(1 for amount in booked if amount > 0),
        largest_loss=min(losses) if losses else None,
    )


@dataclass
class DailySummaries:
    schedule: SyncScheduleRepository
    notifications: NotificationsRepository
    desk: TradeDesk
    events: EventBridgeClient
    bus_name: str

    def run(self, now: datetime) -> int:
        """Publish the summary of every account whose broker day ended within the last hour and
        whose owner wants one; answers how many."""
        published = 0
        for due in self.schedule.due(now + _ALL):
            try:
                published += self._summarize(due, now)
            except DomainError as error:
                logger.warning(
                    "no daily summary", extra={"accountId": due.account_id, "errorCode": error.code}
                )
        return published

    def _summarize(self, due: DueAccount, now: datetime) -> bool:
        if not self.notifications.preferences(due.user_id).channels_for(Kind.DAILY_SUMMARY):
            return False
        account = self.desk.accounts.get(due.user_id, due.account_id)
        today = trading_day(now, self.desk.market.broker_now(self.desk.client(account), account.remote))
        if now - today.start >= WINDOW:
            return False
        yesterday = (datetime.fromisoformat(today.day) - timedelta(days=1)).date().isoformat()
        if not self.notifications.claim_summary(account.id, yesterday):
            return False  # a tick before this one (or a duplicate) published it
        booked = realized_since(self.desk.history, account.id, today.start - timedelta(days=1), today.start)
        summary = summed_up(booked, yesterday)
        try:
            answer = self.events.put_events(
                Entries=[
                    {
                        "Source": SOURCE,
                        "DetailType": "DailySummary",
                        "Detail": json.dumps(summary.detail(account.user_id, account.id, account.currency)),
                        "EventBusName": self.bus_name,
                    }
                ]
            )
            if answer.get("FailedEntryCount", 0):
                raise RuntimeError(f"EventBridge refused the summary: {answer['Entries']}")
        except Exception:
            # Not published: the function's retry (or the next tick in the window) publishes it.
            self.notifications.release_summary(account.id, yesterday)
            raise
        return True

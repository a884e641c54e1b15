"""A trade message the executor could not finish: decide from broker truth, never by guess."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mtcore.observability import logger
from mtcore.trades.groups import children_of, outcome_of
from mtcore.trades.models import SETTLED, TradeKind, TradeRequest, TradeStatus
from mtcore.trades.reconcile import Absent, Found, reconcile

if TYPE_CHECKING:
    from mtcore.logic.metaapi_access import MetaApiAccess
    from mtcore.repositories.accounts import AccountsRepository
    from mtcore.repositories.trades import TradesRepository
    from mtcore.trades.queue import TradeMessage


def conclude(
    message: TradeMessage,
    *,
    accounts: AccountsRepository,
    trades: TradesRepository,
    access: MetaApiAccess,
    now: datetime | None = None,
) -> TradeRequest:
    """FAILED when the broker has no trace of it, the broker's outcome when it has, UNKNOWN
    when the broker cannot be asked."""
    request = trades.get(message.account_id, message.trade_id)
    if request.status in SETTLED:
        return request
    at = now or datetime.now(UTC)
    if request.kind is TradeKind.CLOSE_ALL:
        # A parent never reached the broker itself: its children's outcomes are its own.
        status, summary = outcome_of(children_of(request, trades)) or (
            TradeStatus.UNKNOWN,
            "some of its positions are unsettled",
        )
        return trades.transition(
            request, status, expected={request.status}, at=at, note=summary, changes={"reason": summary}
        )
    account = accounts.get(request.user_id, request.account_id)
    finding = reconcile(
        access.for_account(account), (account.metaapi_account_id, account.region), request, at
    )
    reason = "the order queue gave up on it"
    if isinstance(finding, Found):
        final = trades.transition(
            request,
            finding.status,
            expected={request.status},
            at=at,
            note=f"{reason}; {finding.note}",
            changes={"reason": f"{reason}; {finding.note}", "broker": finding.broker},
        )
    elif isinstance(finding, Absent):
        final = trades.transition(
            request,
            TradeStatus.FAILED,
            expected={request.status},
            at=at,
            note=f"{reason}; {finding.note}",
            changes={"reason": f"{reason}, and the broker has no trace of it: not executed"},
        )
    else:
        final = trades.transition(
            request,
            TradeStatus.UNKNOWN,
            expected={request.status},
            at=at,
            note=f"{reason}; {finding.note}",
            changes={"reason": f"{reason}; {finding.note}. The next full sync resolves it."},
        )
    logger.warning(
        "dead-lettered trade concluded", extra={"tradeId": request.id, "status": final.status.value}
    )
    return final

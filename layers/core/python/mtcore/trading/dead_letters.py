"""A trade message the executor could not finish: decide from broker truth, never by guess."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mtcore.observability import logger
from mtcore.trading.broker_truth import ABSENT_AFTER, Absent, Found, find_at_broker, last_sent_at
from mtcore.trading.delivery import broker_for
from mtcore.trading.groups import children_of, outcome_of
from mtcore.trading.models import PARENTS, SETTLED, TradeKind, TradeRequest, TradeStatus

if TYPE_CHECKING:
    from mtcore.accounts import AccountsRepository, MetaApiAccess
    from mtcore.trading.queue import TradeMessage
    from mtcore.trading.repository import TradesRepository


def conclude(
    message: TradeMessage,
    *,
    accounts: AccountsRepository,
    trades: TradesRepository,
    access: MetaApiAccess,
    now: datetime | None = None,
) -> TradeRequest | None:
    """FAILED when the broker has no trace of it long enough after its last send, the broker's
    outcome when it has, UNKNOWN when the broker cannot tell yet (sync settles those); None for
    a message whose request is not stored."""
    request = trades.find(message.account_id, message.trade_id)
    if request is None:
        logger.warning("dead letter without a stored request dropped", extra={"tradeId": message.trade_id})
        return None
    if request.status in SETTLED:
        return request
    at = now or datetime.now(UTC)
    if request.kind is TradeKind.SIGNAL and request.children is None:
        # Nothing was made of it, so nothing reached the broker.
        summary = "not sent: the order queue gave up on it before it could be resolved on the account"
        return trades.transition(
            request,
            TradeStatus.REJECTED,
            expected={request.status},
            at=at,
            note=summary,
            changes={"reason": summary},
        )
    if request.kind in PARENTS:
        # A parent never reached the broker itself: its children's outcomes are its own.
        status, summary = outcome_of(children_of(request, trades)) or (
            TradeStatus.UNKNOWN,
            "some of its positions are unsettled",
        )
        return trades.transition(
            request, status, expected={request.status}, at=at, note=summary, changes={"reason": summary}
        )
    reached = broker_for(request, accounts=accounts, trades=trades, access=access)
    if not isinstance(reached, tuple):
        return reached
    account, client = reached
    finding = find_at_broker(client, account.remote, request, at)
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
    elif isinstance(finding, Absent) and at - last_sent_at(request) >= ABSENT_AFTER:
        final = trades.transition(
            request,
            TradeStatus.FAILED,
            expected={request.status},
            at=at,
            note=f"{reason}; {finding.note}",
            changes={"reason": f"{reason}; not executed: {finding.note}"},
        )
    else:
        # The broker could not be asked, or was asked too soon after the send to be sure.
        doubt = (
            f"{finding.note}, too soon after its send to be sure"
            if isinstance(finding, Absent)
            else finding.note
        )
        final = trades.transition(
            request,
            TradeStatus.UNKNOWN,
            expected={request.status},
            at=at,
            note=f"{reason}; {doubt}",
            changes={"reason": f"{reason}; {doubt}. The next full sync settles it."},
        )
    logger.warning(
        "dead-lettered trade concluded", extra={"tradeId": request.id, "status": final.status.value}
    )
    return final

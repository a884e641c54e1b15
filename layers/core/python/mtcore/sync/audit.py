"""After a full sync: our trades against the broker's records. UNKNOWN trades of every kind are
settled from broker truth (a close-all parent from its children once they are); executed trades
without a position, positions carrying our clientId without a trade or of a trade not recorded
as executed, and positions opened by hand are named on the account for a person to look at."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mtcore.accounts import Reconciliation
from mtcore.observability import logger
from mtcore.trading import (
    ABSENT_AFTER,
    IN_FLIGHT,
    PARENTS,
    Absent,
    Found,
    TradeKind,
    TradeStatus,
    TransitionRefused,
    children_of,
    find_at_broker,
    last_sent_at,
    outcome_of,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mtcore.accounts import Account, AccountsRepository
    from mtcore.metaapi.client import MetaApiClient
    from mtcore.portfolio import HistoryRepository, PositionsRepository
    from mtcore.trading import TradeRequest, TradesRepository

# Trades older than this are not compared any more (their positions are history by then).
LOOKBACK = timedelta(days=7)
# An executed trade's position reaches the store within seconds; give it a while before flagging.
GRACE = timedelta(minutes=2)
OUR_CLIENT_ID = re.compile(r"^T[0-9A-Z]{9}$")
# The most recently closed positions an executed trade's position is looked for among.
CLOSED_CHECKED = 1000
# Statuses whose trade may own a position (still on its way, or done): a position carrying the
# clientId of any other was a late fill.
_MAY_HOLD_A_POSITION = IN_FLIGHT | {TradeStatus.EXECUTED, TradeStatus.PARTIAL, TradeStatus.PLACED}


def audit_account(
    account: Account,
    *,
    client: MetaApiClient,
    accounts: AccountsRepository,
    trades: TradesRepository,
    positions: PositionsRepository,
    history: HistoryRepository,
    now: datetime,
) -> Reconciliation:
    recent = trades.created_since(account.id, now - LOOKBACK)
    settled = _settle_unknown(account, client, trades, recent, now)
    settled |= _settle_parents(trades, recent, now)
    open_positions = positions.list_open(account.id)
    recently_closed, _ = history.list_closed(account.id, limit=CLOSED_CHECKED, next_token=None)
    known_positions = {p.id for p in open_positions} | {p.id for p in recently_closed}
    status_of = {request.client_id: settled.get(request.id, request.status) for request in recent}
    late_fills = [
        p.id
        for p in open_positions
        if p.client_id in status_of and status_of[p.client_id] not in _MAY_HOLD_A_POSITION
    ]
    if late_fills:
        logger.warning("positions of trades not recorded as executed", extra={"positionIds": late_fills})
    found = Reconciliation(
        checked_at=now,
        unknown_resolved=list(settled),
        unknown_remaining=[
            request.id
            for request in recent
            if request.status is TradeStatus.UNKNOWN and request.id not in settled
        ],
        positions_of_unexecuted_trades=late_fills,
        executed_without_position=[
            request.id
            for request in recent
            if request.kind is TradeKind.OPEN
            and request.status is TradeStatus.EXECUTED
            and request.updated_at < now - GRACE
            and request.broker is not None
            and request.broker.position_id
            and request.broker.position_id not in known_positions
        ],
        unmatched_positions=[
            p.id
            for p in open_positions
            if p.client_id
            and OUR_CLIENT_ID.match(p.client_id)
            and p.client_id not in status_of
            and p.time > now - LOOKBACK
        ],
        manual_positions=[p.id for p in open_positions if not p.client_id],
    )
    if _findings(found) != _findings(account.reconciliation):
        accounts.set_reconciliation(account, found)
    return found


def _findings(reconciliation: Reconciliation | None) -> dict[str, object] | None:
    """What a reconciliation found, whenever it looked: the same findings are not written again."""
    return None if reconciliation is None else reconciliation.model_dump(exclude={"checked_at"})


def _settle_unknown(
    account: Account,
    client: MetaApiClient,
    trades: TradesRepository,
    recent: list[TradeRequest],
    now: datetime,
) -> dict[str, TradeStatus]:
    """UNKNOWN trades the broker can now tell about; answers their new statuses by id. A trade
    is taken for not executed only once the broker has had time to execute a late send."""
    remote = account.remote
    settled: dict[str, TradeStatus] = {}
    for request in recent:
        if request.status is not TradeStatus.UNKNOWN or request.kind in PARENTS:
            continue
        finding = find_at_broker(client, remote, request, now)
        if isinstance(finding, Found):
            status, note, changes = finding.status, finding.note, {"broker": finding.broker}
        elif isinstance(finding, Absent) and now - last_sent_at(request) >= ABSENT_AFTER:
            status, note, changes = TradeStatus.FAILED, f"not executed: {finding.note}", {}
        else:
            continue
        if _settle(trades, request, status, f"resolved by sync: {note}", now, changes):
            settled[request.id] = status
    return settled


def _settle_parents(
    trades: TradesRepository, recent: list[TradeRequest], now: datetime
) -> dict[str, TradeStatus]:
    """UNKNOWN close-all parents whose children are all settled now, none of them UNKNOWN."""
    settled: dict[str, TradeStatus] = {}
    for parent in recent:
        if parent.status is not TradeStatus.UNKNOWN or parent.kind not in PARENTS:
            continue
        outcome = outcome_of(children_of(parent, trades))
        if outcome is None or outcome[0] is TradeStatus.UNKNOWN:
            continue
        if _settle(trades, parent, outcome[0], f"resolved by sync: {outcome[1]}", now, {}):
            settled[parent.id] = outcome[0]
    return settled


def _settle(
    trades: TradesRepository,
    request: TradeRequest,
    status: TradeStatus,
    reason: str,
    now: datetime,
    changes: Mapping[str, object],
) -> bool:
    try:
        trades.transition(
            request,
            status,
            expected={TradeStatus.UNKNOWN},
            at=now,
            note=reason,
            changes={"reason": reason, **changes},
        )
    except TransitionRefused:
        return False  # settled meanwhile by someone else
    logger.info("unknown trade resolved", extra={"tradeId": request.id, "status": status.value})
    return True

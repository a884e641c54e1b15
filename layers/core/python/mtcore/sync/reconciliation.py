"""After a full sync: our trades against the broker's records. UNKNOWN trades are settled from
broker truth; executed trades without a position, positions carrying our clientId without a
trade, and positions opened by hand are named on the account for a person to look at."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mtcore.models import Reconciliation
from mtcore.observability import logger
from mtcore.repositories.trades import TransitionRefused
from mtcore.trades.models import OPENING, TradeKind, TradeStatus
from mtcore.trades.reconcile import Absent, Found, reconcile

if TYPE_CHECKING:
    from mtcore.metaapi.client import MetaApiClient
    from mtcore.models import Account
    from mtcore.repositories.accounts import AccountsRepository
    from mtcore.repositories.history import HistoryRepository
    from mtcore.repositories.positions import PositionsRepository
    from mtcore.repositories.trades import TradesRepository
    from mtcore.trades.models import TradeRequest

# Trades older than this are not compared any more (their positions are history by then).
LOOKBACK = timedelta(days=7)
# An executed trade's position reaches the store within seconds; give it a while before flagging.
GRACE = timedelta(minutes=2)
OUR_CLIENT_ID = re.compile(r"^T[0-9A-Z]{9}$")
# The most recently closed positions an executed trade's position is looked for among.
CLOSED_CHECKED = 1000


def reconcile_account(
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
    resolved, remaining = _settle_unknown(account, client, trades, recent, now)
    open_positions = positions.list_open(account.id)
    recently_closed, _ = history.list_closed(account.id, limit=CLOSED_CHECKED, next_token=None)
    known_positions = {p.id for p in open_positions} | {p.id for p in recently_closed}
    ours = {request.client_id for request in recent}
    found = Reconciliation(
        checked_at=now,
        unknown_resolved=resolved,
        unknown_remaining=remaining,
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
            and p.client_id not in ours
            and p.time > now - LOOKBACK
        ],
        manual_positions=[p.id for p in open_positions if not p.client_id],
    )
    accounts.set_reconciliation(account, found)
    return found


def _settle_unknown(
    account: Account,
    client: MetaApiClient,
    trades: TradesRepository,
    recent: list[TradeRequest],
    now: datetime,
) -> tuple[list[str], list[str]]:
    remote = (account.metaapi_account_id, account.region)
    resolved: list[str] = []
    remaining: list[str] = []
    for request in recent:
        if request.status is not TradeStatus.UNKNOWN or request.kind is TradeKind.CLOSE_ALL:
            continue
        finding = reconcile(client, remote, request, now)
        if isinstance(finding, Found):
            status, note, changes = finding.status, finding.note, {"broker": finding.broker}
        elif isinstance(finding, Absent) and request.kind in OPENING:
            # Long after the send, no trace of an order at the broker: it never executed.
            status, note, changes = TradeStatus.FAILED, f"the broker has no trace: {finding.note}", {}
        else:
            remaining.append(request.id)
            continue
        try:
            trades.transition(
                request,
                status,
                expected={TradeStatus.UNKNOWN},
                at=now,
                note=f"resolved by sync: {note}",
                changes={"reason": f"resolved by sync: {note}", **changes},
            )
        except TransitionRefused:
            continue  # settled meanwhile by someone else
        logger.info("unknown trade resolved", extra={"tradeId": request.id, "status": status.value})
        resolved.append(request.id)
    return resolved, remaining

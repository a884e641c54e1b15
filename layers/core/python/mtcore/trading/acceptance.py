"""Accepting a trade: one path for every kind. The caller's account is proven theirs, the kind's
request is built (pre-trade checks included), recorded and queued; the executor does the rest."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from aws_lambda_powertools.metrics import MetricUnit

from mtcore.accounts import AccountsRepository, MetaApiAccess, get_accounts_repository, get_metaapi_access
from mtcore.ids import new_ulid
from mtcore.market import MarketCache, get_market_cache
from mtcore.observability import logger, metrics
from mtcore.portfolio import (
    HistoryRepository,
    PositionsRepository,
    get_history_repository,
    get_positions_repository,
)
from mtcore.risk import RiskRepository, get_risk_repository
from mtcore.trading.idempotency import IdempotencyKeys, get_idempotency_keys
from mtcore.trading.models import TradeKind, TradeRequest, TradeStatus
from mtcore.trading.pretrade import PreTrade
from mtcore.trading.queue import TradeQueue, get_trade_queue
from mtcore.trading.repository import TradesRepository, get_trades_repository
from mtcore.trading.risk_gate import RiskGate

if TYPE_CHECKING:
    from mtcore.accounts import Account
    from mtcore.metaapi.client import MetaApiClient
    from mtcore.metaapi.models import TradeAction


@dataclass
class TradeDesk:
    """What accepting a trade needs: the stores, the queue and MetaApi."""

    accounts: AccountsRepository
    trades: TradesRepository
    keys: IdempotencyKeys | None  # None where no caller sends an Idempotency-Key (a sync's halt)
    queue: TradeQueue
    access: MetaApiAccess
    market: MarketCache
    risk: RiskRepository
    positions: PositionsRepository
    history: HistoryRepository

    @property
    def gate(self) -> RiskGate:
        return RiskGate(trades=self.trades, history=self.history, market=self.market)

    def client(self, account: Account) -> MetaApiClient:
        return self.access.for_account(account)

    def pretrade(self, account: Account) -> PreTrade:
        return PreTrade(client=self.client(account), account=account, cache=self.market)


def get_trade_desk() -> TradeDesk:
    """The API's desk, which takes Idempotency-Keys."""
    return replace(get_keyless_desk(), keys=get_idempotency_keys())


def get_keyless_desk() -> TradeDesk:
    """The desk of a caller that never sends an Idempotency-Key (a sync halting on a breach)."""
    return TradeDesk(
        accounts=get_accounts_repository(),
        trades=get_trades_repository(),
        keys=None,
        queue=get_trade_queue(),
        access=get_metaapi_access(),
        market=get_market_cache(),
        risk=get_risk_repository(),
        positions=get_positions_repository(),
        history=get_history_repository(),
    )


@dataclass(frozen=True)
class TradeCall:
    """Who asks, for which of their accounts, and the Idempotency-Key they sent, if any."""

    user_id: str
    account_id: str
    idempotency_key: str | None = None


class Intent(Protocol):
    """One kind of trade as the API takes it."""

    # The route template: the idempotency scope, so one key never crosses two kinds of call.
    route: ClassVar[str]

    def body(self) -> dict[str, Any]:
        """What a repeat under the same key must match (path ids included)."""
        ...

    def build(self, desk: TradeDesk, account: Account, trade_id: str) -> list[TradeRequest]:
        """The request under `trade_id`, checked, then any children it settles from."""
        ...


def accept(call: TradeCall, intent: Intent, *, desk: TradeDesk, trade_id: str | None = None) -> TradeRequest:
    """Build, record and queue the intent's request under a new id (or the `trade_id` the
    caller claimed for it), or with an Idempotency-Key under the id the key was first claimed
    for: a repeat answers the request the first call created (even one that failed or died after
    writing it) and creates it only if the first call never did. Checks run only while nothing is
    written yet, so a repeat answers the first request even if the market moved."""
    account = desk.accounts.get(call.user_id, call.account_id)
    account.ensure_ready()
    if call.idempotency_key is None:
        return _record(desk, intent.build(desk, account, trade_id or new_ulid()))
    if desk.keys is None:
        raise RuntimeError("this desk takes no Idempotency-Key")
    trade_id = desk.keys.claim(
        tenant=account.user_id,
        route=intent.route,
        key=call.idempotency_key,
        body=intent.body(),
        trade_id=new_ulid(),
        now=datetime.now(UTC),
    )
    existing = desk.trades.find(account.id, trade_id)
    if existing is None:
        return _record(desk, intent.build(desk, account, trade_id))
    _redeliver(desk, existing)
    return existing


def new_request(
    account: Account, trade_id: str, kind: TradeKind, action: TradeAction, **fields: Any
) -> TradeRequest:
    now = datetime.now(UTC)
    return TradeRequest(
        id=trade_id,
        account_id=account.id,
        user_id=account.user_id,
        kind=kind,
        action=action,
        created_at=now,
        updated_at=now,
        **fields,
    )


def _record(desk: TradeDesk, built: list[TradeRequest]) -> TradeRequest:
    """Write the request, then its children (a crash in between leaves a parent that counts an
    unwritten child as a position not closed), then queue the children and the request."""
    request, children = built[0], built[1:]
    if not desk.trades.put_new(request):
        # A repeat of this call, running alongside, wrote it first: its answer is this one's.
        return desk.trades.get(request.account_id, request.id)
    for child in children:
        desk.trades.put_new(child)
    for queued in (*children, request):
        _deliver(desk, queued)
    return request


def _redeliver(desk: TradeDesk, request: TradeRequest) -> None:
    """A repeat finds its request written: queue what may not have been (the message's
    deduplication id makes a second send harmless)."""
    if request.status is not TradeStatus.QUEUED:
        return
    for child_id in request.children or []:
        child = desk.trades.find(request.account_id, child_id)
        if child is not None and child.status is TradeStatus.QUEUED:
            _deliver(desk, child)
    _deliver(desk, request)


def _deliver(desk: TradeDesk, request: TradeRequest) -> None:
    """Once written, a request is accepted: if the queue refuses its message now, the sweeper
    sends it (an unsent request is due for it a few minutes after it was written)."""
    if not desk.queue.send(request):
        logger.warning("trade not queued; the sweeper sends it", extra={"tradeId": request.id})
        metrics.add_metric(name="TradeSendsDeferred", unit=MetricUnit.Count, value=1)

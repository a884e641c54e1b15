"""The two gates every entry passes through the risk rules: when it is accepted, and again right
before it is sent, for what can change in between (a halt, the open positions, today's loss,
the trading window). What a rule needs is read only when the account's profile sets that rule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from mtcore.risk import EntryFacts, OpenPosition, RiskProfile, RiskState, standing, trading_day
from mtcore.trading.models import OPENING, TradeStatus

if TYPE_CHECKING:
    from mtcore.accounts import Account
    from mtcore.market import MarketCache
    from mtcore.metaapi.client import MetaApiClient
    from mtcore.metaapi.models import Position
    from mtcore.portfolio import HistoryRepository
    from mtcore.trading.repository import TradesRepository

# Entries that did not trade do not count against the day's trades.
_DID_NOT_TRADE = frozenset(
    {TradeStatus.REJECTED, TradeStatus.EXPIRED, TradeStatus.FAILED, TradeStatus.CANCELED}
)


def only_reduces(positions: Sequence[Position], symbol: str, is_buy: bool, volume: Decimal) -> bool:
    """On a netting account, whether a market order only reduces the symbol's one position (an
    opposite order up to its volume): that adds no risk, so no risk rule judges it."""
    held = next((position for position in positions if position.symbol == symbol), None)
    return held is not None and (held.type == "POSITION_TYPE_BUY") != is_buy and volume <= held.volume


@dataclass(frozen=True)
class Entry:
    symbol: str
    volume: Decimal
    has_stop_loss: bool
    risk_percent: Decimal | None = None


@dataclass
class RiskGate:
    trades: TradesRepository
    history: HistoryRepository
    market: MarketCache

    def entries_since(self, account_id: str, start: datetime) -> int:
        """The entries since `start` that count against the day's trades: on their way or traded."""
        return sum(
            request.kind in OPENING and request.status not in _DID_NOT_TRADE
            for request in self.trades.created_since(account_id, start)
        )

    def facts(
        self,
        account: Account,
        client: MetaApiClient,
        profile: RiskProfile,
        state: RiskState,
        entry: Entry,
        *,
        now: datetime,
        open_positions: Callable[[], Sequence[Position]],
        count_trades: bool = True,
    ) -> EntryFacts:
        """What the profile's rules judge this entry by. `open_positions` is read only when a
        position limit is set; the day's trades are counted only when `count_trades`."""
        remote = account.remote
        facts = EntryFacts(
            symbol=entry.symbol,
            volume=entry.volume,
            has_stop_loss=entry.has_stop_loss,
            risk_percent=entry.risk_percent,
            now=now,
            halted=account.trading_halted,
            halt_reason=account.halt_reason,
        )
        limits_positions = (
            profile.max_open_positions,
            profile.max_positions_per_symbol,
            profile.max_total_volume_per_symbol,
        )
        positions = None
        if any(limit is not None for limit in limits_positions):
            positions = [OpenPosition(p.symbol, p.volume) for p in open_positions()]
        counts_by_day = profile.max_trades_per_day is not None and count_trades
        guards = profile.max_daily_loss is not None or profile.max_drawdown_percent is not None
        trades_today = today_loss = day_start = drawdown = None
        if counts_by_day or guards:
            day = trading_day(now, self.market.broker_now(client, remote))
            if counts_by_day:
                trades_today = self.entries_since(account.id, day.start)
            if guards and state.day == day.day and state.day_start_equity is not None:
                # Since the last sync's evaluation, what equity moved is today's profit or loss.
                equity = self.market.account_information(client, remote).equity
                now_standing = standing(
                    state, day=day.day, equity=equity, pnl=equity - state.day_start_equity
                )
                today_loss, day_start = now_standing.today_loss, now_standing.day_start_equity
                drawdown = now_standing.drawdown_percent
        last_loss_at = None
        if profile.cooldown_after_loss_minutes is not None:
            closed, _ = self.history.list_closed(account.id, limit=1, next_token=None)
            if closed and (closed[0].profit or 0) < 0:
                last_loss_at = closed[0].close_time
        return replace(
            facts,
            positions=positions,
            trades_today=trades_today,
            last_loss_at=last_loss_at,
            today_loss=today_loss,
            day_start_equity=day_start,
            drawdown_percent=drawdown,
        )

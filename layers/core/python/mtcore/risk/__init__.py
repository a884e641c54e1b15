"""Risk: the limits a trader sets per account, the rules that enforce them on every entry, the
loss guards, and position sizing."""

from mtcore.risk.guards import Standing, TradingDay, evaluate, standing, today_pnl, trading_day
from mtcore.risk.models import (
    Breach,
    FixedSizing,
    Lots,
    MarginPercentSizing,
    OnBreach,
    RiskProfile,
    RiskState,
    Sized,
    Sizing,
    SymbolName,
)
from mtcore.risk.repository import RiskRepository, get_risk_repository
from mtcore.risk.rules import EntryFacts, OpenPosition, RiskRefused, RuleCheck, entry_checks, refuse_entry
from mtcore.risk.sizing import SizingMarket, loss_per_lot, size

__all__ = [
    "Breach",
    "EntryFacts",
    "FixedSizing",
    "Lots",
    "MarginPercentSizing",
    "OnBreach",
    "OpenPosition",
    "RiskProfile",
    "RiskRefused",
    "RiskRepository",
    "RiskState",
    "RuleCheck",
    "Sized",
    "Sizing",
    "SizingMarket",
    "Standing",
    "SymbolName",
    "TradingDay",
    "entry_checks",
    "evaluate",
    "get_risk_repository",
    "loss_per_lot",
    "refuse_entry",
    "size",
    "standing",
    "today_pnl",
    "trading_day",
]

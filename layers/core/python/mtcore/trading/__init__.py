"""Trading: trade requests from acceptance (pre-trade checks, idempotency keys) through the order
queue and the executor to a final status from broker truth, with the sweeper, the dead-letter
consumer and the trade events.

Names load on first use: a function that needs only the request's model (the webhook intake)
never loads acceptance, the MetaApi client and the accounts behind it."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mtcore.trading.acceptance import TradeDesk, get_keyless_desk, get_trade_desk
    from mtcore.trading.broker_truth import ABSENT_AFTER, Absent, Found, find_at_broker, last_sent_at
    from mtcore.trading.groups import children_of, outcome_of
    from mtcore.trading.models import IN_FLIGHT, PARENTS, TradeKind, TradeRequest, TradeStatus
    from mtcore.trading.repository import TradesRepository, TransitionRefused, get_trades_repository
    from mtcore.trading.risk_controls import guard

_HOMES = {
    "mtcore.trading.acceptance": ("TradeDesk", "get_keyless_desk", "get_trade_desk"),
    "mtcore.trading.broker_truth": ("ABSENT_AFTER", "Absent", "Found", "find_at_broker", "last_sent_at"),
    "mtcore.trading.groups": ("children_of", "outcome_of"),
    "mtcore.trading.models": ("IN_FLIGHT", "PARENTS", "TradeKind", "TradeRequest", "TradeStatus"),
    "mtcore.trading.repository": ("TradesRepository", "TransitionRefused", "get_trades_repository"),
    "mtcore.trading.risk_controls": ("guard",),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "ABSENT_AFTER",
    "IN_FLIGHT",
    "PARENTS",
    "Absent",
    "Found",
    "TradeDesk",
    "TradeKind",
    "TradeRequest",
    "TradeStatus",
    "TradesRepository",
    "TransitionRefused",
    "children_of",
    "find_at_broker",
    "get_keyless_desk",
    "get_trade_desk",
    "get_trades_repository",
    "guard",
    "last_sent_at",
    "outcome_of",
]


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)

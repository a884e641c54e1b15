"""Trading: trade requests from acceptance (pre-trade checks, idempotency keys) through the order
queue and the executor to a final status from broker truth, with the sweeper, the dead-letter
consumer and the trade events."""

from mtcore.trading.acceptance import TradeDesk, get_keyless_desk, get_trade_desk
from mtcore.trading.broker_truth import ABSENT_AFTER, Absent, Found, find_at_broker, last_sent_at
from mtcore.trading.groups import children_of, outcome_of
from mtcore.trading.models import IN_FLIGHT, PARENTS, TradeKind, TradeRequest, TradeStatus
from mtcore.trading.repository import TradesRepository, TransitionRefused, get_trades_repository
from mtcore.trading.risk_controls import guard

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

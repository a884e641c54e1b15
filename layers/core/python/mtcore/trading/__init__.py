"""Trading: trade requests from acceptance (pre-trade checks, idempotency keys) through the order
queue and the executor to a final status from broker truth, with the sweeper, the dead-letter
consumer and the trade events.

Names load on first use: a function that needs only the request's model (the webhook intake)
never loads acceptance, the MetaApi client and the accounts behind it."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mtcore.trading.acceptance import TradeDesk, get_keyless_desk, get_trade_desk, new_request
    from mtcore.trading.bodies import NewOrder, PositionChanges
    from mtcore.trading.broker_truth import ABSENT_AFTER, Absent, Found, find_at_broker, last_sent_at
    from mtcore.trading.checks import pip_of, point_of
    from mtcore.trading.executor import Resolved, SignalResolver, Unresolved
    from mtcore.trading.groups import children_of, outcome_of
    from mtcore.trading.idempotency import IdempotencyKeys, get_idempotency_keys
    from mtcore.trading.intents import ChangePosition, PlaceOrder, close_child
    from mtcore.trading.models import (
        ENTRY_COMMANDS,
        IN_FLIGHT,
        PARENTS,
        PENDING_COMMANDS,
        SLTP_COMMANDS,
        AlertCommand,
        Command,
        LevelUnits,
        Price,
        SignalOrder,
        TradeKind,
        TradeRequest,
        TradeStatus,
    )
    from mtcore.trading.queue import TradeQueue, get_trade_queue
    from mtcore.trading.repository import TradesRepository, TransitionRefused, get_trades_repository, item_of
    from mtcore.trading.risk_controls import HaltRequest, guard, halt_account, resume, status

_HOMES = {
    "mtcore.trading.acceptance": (
        "TradeDesk",
        "get_keyless_desk",
        "get_trade_desk",
        "new_request",
    ),
    "mtcore.trading.bodies": (
        "NewOrder",
        "PositionChanges",
    ),
    "mtcore.trading.broker_truth": (
        "ABSENT_AFTER",
        "Absent",
        "Found",
        "find_at_broker",
        "last_sent_at",
    ),
    "mtcore.trading.checks": (
        "pip_of",
        "point_of",
    ),
    "mtcore.trading.executor": (
        "Resolved",
        "SignalResolver",
        "Unresolved",
    ),
    "mtcore.trading.groups": (
        "children_of",
        "outcome_of",
    ),
    "mtcore.trading.idempotency": (
        "IdempotencyKeys",
        "get_idempotency_keys",
    ),
    "mtcore.trading.intents": (
        "ChangePosition",
        "PlaceOrder",
        "close_child",
    ),
    "mtcore.trading.models": (
        "ENTRY_COMMANDS",
        "IN_FLIGHT",
        "PARENTS",
        "PENDING_COMMANDS",
        "SLTP_COMMANDS",
        "AlertCommand",
        "Command",
        "LevelUnits",
        "Price",
        "SignalOrder",
        "TradeKind",
        "TradeRequest",
        "TradeStatus",
    ),
    "mtcore.trading.queue": (
        "TradeQueue",
        "get_trade_queue",
    ),
    "mtcore.trading.repository": (
        "TradesRepository",
        "TransitionRefused",
        "get_trades_repository",
        "item_of",
    ),
    "mtcore.trading.risk_controls": ("HaltRequest", "guard", "halt_account", "resume", "status"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "ABSENT_AFTER",
    "ENTRY_COMMANDS",
    "IN_FLIGHT",
    "PARENTS",
    "PENDING_COMMANDS",
    "SLTP_COMMANDS",
    "Absent",
    "AlertCommand",
    "ChangePosition",
    "Command",
    "Found",
    "HaltRequest",
    "IdempotencyKeys",
    "LevelUnits",
    "NewOrder",
    "PlaceOrder",
    "PositionChanges",
    "Price",
    "Resolved",
    "SignalOrder",
    "SignalResolver",
    "TradeDesk",
    "TradeKind",
    "TradeQueue",
    "TradeRequest",
    "TradeStatus",
    "TradesRepository",
    "TransitionRefused",
    "Unresolved",
    "children_of",
    "close_child",
    "find_at_broker",
    "get_idempotency_keys",
    "get_keyless_desk",
    "get_trade_desk",
    "get_trade_queue",
    "get_trades_repository",
    "guard",
    "halt_account",
    "item_of",
    "last_sent_at",
    "new_request",
    "outcome_of",
    "pip_of",
    "point_of",
    "resume",
    "status",
]


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)

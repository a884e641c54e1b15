"""Webhook signals: TradingView, PineConnector-style and other alerts become trades on one or
many accounts. The intake (`intake`) only authenticates, dedupes, records and queues; each
account's part is resolved by the executor (`SignalDispatch`) with the broker's state then.

Names load on first use, so the intake never loads the dispatch side."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mtcore.signals.dispatch import SignalDispatch

__all__ = ["SignalDispatch"]


def __getattr__(name: str) -> Any:
    if name == "SignalDispatch":
        return import_module("mtcore.signals.dispatch").SignalDispatch
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

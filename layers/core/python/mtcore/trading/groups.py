"""A parent request (close all, flatten) settles from its children's outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mtcore.trading.models import SETTLED, TradeKind, TradeRequest, TradeStatus

if TYPE_CHECKING:
    from mtcore.trading.repository import TradesRepository

_DONE = {TradeStatus.EXECUTED, TradeStatus.PARTIAL}


def children_of(parent: TradeRequest, trades: TradesRepository) -> list[TradeRequest | None]:
    """The parent's children; None for one never written (the API crashed while creating them)."""
    return [trades.find(parent.account_id, child) for child in parent.children or []]


def outcome_of(children: Sequence[TradeRequest | None]) -> tuple[TradeStatus, str] | None:
    """The parent's final status and reason, or None while a child is still unsettled."""
    written = [child for child in children if child is not None]
    if any(child.status not in SETTLED for child in written):
        return None
    if not children:
        return TradeStatus.EXECUTED, "there were no open positions to close"
    done = sum(child.status in _DONE for child in written)
    summary = _summary(children)
    if done == len(children):
        return TradeStatus.EXECUTED, summary
    if any(child.status is TradeStatus.UNKNOWN for child in written):
        return TradeStatus.UNKNOWN, f"{summary}; for some the broker could not tell"
    if done:
        return TradeStatus.PARTIAL, summary
    refused = next((child.reason for child in written if child.reason), None)
    return TradeStatus.REJECTED, f"{summary}: {refused or 'their requests were never queued'}"


def _summary(children: Sequence[TradeRequest | None]) -> str:
    """What was closed and canceled, of how many (a child never written counts as a close)."""
    cancels = [child for child in children if child is not None and child.kind is TradeKind.CANCEL]
    closes = len(children) - len(cancels)
    closed = sum(c is not None and c.kind is not TradeKind.CANCEL and c.status in _DONE for c in children)
    parts = [f"closed {closed} of {closes} positions"] if closes or not cancels else []
    if cancels:
        canceled = sum(child.status in _DONE for child in cancels)
        parts.append(f"canceled {canceled} of {len(cancels)} pending orders")
    return " and ".join(parts)

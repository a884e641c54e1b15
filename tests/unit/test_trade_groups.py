from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mtcore.metaapi.models import TradeAction
from mtcore.trading.groups import outcome_of
from mtcore.trading.models import TradeKind, TradeRequest, TradeStatus

NOW = datetime(2026, 11, 18, 12, tzinfo=UTC)


def _child(status: TradeStatus, reason: str | None = None) -> TradeRequest:
    return TradeRequest(
        account_id="acc",
        user_id="alice",
        kind=TradeKind.CLOSE,
        action=TradeAction.POSITION_CLOSE_ID,
        position_id="1",
        status=status,
        reason=reason,
        created_at=NOW,
        updated_at=NOW,
    )


def test_a_parent_waits_while_any_child_is_unsettled() -> None:
    assert outcome_of([_child(TradeStatus.EXECUTED), _child(TradeStatus.WAITING)]) is None


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], (TradeStatus.EXECUTED, "there were no open positions to close")),
        ([TradeStatus.EXECUTED, TradeStatus.EXECUTED], (TradeStatus.EXECUTED, "closed 2 of 2 positions")),
        ([TradeStatus.EXECUTED, TradeStatus.REJECTED], (TradeStatus.PARTIAL, "closed 1 of 2 positions")),
        (
            [TradeStatus.EXECUTED, TradeStatus.UNKNOWN],
            (TradeStatus.UNKNOWN, "closed 1 of 2 positions; for some the broker could not tell"),
        ),
    ],
)
def test_a_parent_settles_from_its_children(
    statuses: list[TradeStatus], expected: tuple[TradeStatus, str]
) -> None:
    assert outcome_of([_child(status) for status in statuses]) == expected


def test_all_refused_carries_the_brokers_reason() -> None:
    children = [_child(TradeStatus.REJECTED, "market closed"), _child(TradeStatus.REJECTED, "market closed")]
    assert outcome_of(children) == (TradeStatus.REJECTED, "closed 0 of 2 positions: market closed")


def test_a_child_never_written_counts_as_not_closed() -> None:
    assert outcome_of([_child(TradeStatus.EXECUTED), None]) == (
        TradeStatus.PARTIAL,
        "closed 1 of 2 positions",
    )
    assert outcome_of([None]) == (
        TradeStatus.REJECTED,
        "closed 0 of 1 positions: their requests were never queued",
    )

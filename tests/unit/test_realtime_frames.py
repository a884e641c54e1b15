"""Which bus events become which frames, and who a connection wants them from."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mtcore.realtime.broadcast import frame_of
from mtcore.realtime.connections import Connection
from mtcore.realtime.models import FrameType, frame_type_of


@pytest.mark.parametrize(
    ("detail_type", "frame"),
    [
        ("TradeExecuted", FrameType.TRADE),
        ("TradeRejected", FrameType.TRADE),
        ("PositionOpened", FrameType.POSITION),
        ("PositionClosed", FrameType.POSITION),
        ("OrderFilled", FrameType.ORDER),
        ("AccountUpdated", FrameType.ACCOUNT),
        ("AccountDisconnected", FrameType.ACCOUNT),
        ("AccountReady", FrameType.ACCOUNT),
        ("SyncFailed", FrameType.SYNC),
        ("RiskLimitBreached", FrameType.RISK),
        ("AccountHalted", FrameType.RISK),
        ("AccountProvisioningFailed", FrameType.ERROR),
    ],
)
def test_every_event_a_dashboard_shows_has_its_frame(detail_type: str, frame: FrameType) -> None:
    assert frame_type_of(detail_type) is frame


def test_an_event_without_an_owner_or_a_frame_is_not_pushed() -> None:
    assert frame_of({"detail-type": "TradeExecuted", "detail": {"accountId": "a"}}) is None
    assert frame_of({"detail-type": "Unheard", "detail": {"userId": "u"}}) is None


def test_a_frame_carries_the_event_without_its_envelope_and_an_id_that_sorts_in_time() -> None:
    event = {
        "detail-type": "TradeExecuted",
        "detail": {"userId": "u", "accountId": "a", "id": "t", "status": "EXECUTED"},
    }
    first = frame_of(event, now=datetime(2026, 1, 1, tzinfo=UTC))
    second = frame_of(event, now=datetime(2026, 1, 1, tzinfo=UTC))

    assert first is not None
    assert second is not None
    owner, frame = first
    assert owner == "u"
    assert (frame.type, frame.account_id, frame.detail_type) == (FrameType.TRADE, "a", "TradeExecuted")
    assert frame.data == {"id": "t", "status": "EXECUTED"}
    assert frame.event_id is not None
    assert second[1].event_id is not None
    assert frame.event_id < second[1].event_id or frame.event_id[:10] == second[1].event_id[:10]


def test_a_connection_without_subscriptions_wants_every_account_and_watches_nothing() -> None:
    everything = Connection("c1", "u")
    narrow = Connection("c2", "u", {"a": ["EURUSD"]})

    assert everything.wants("a")
    assert everything.wants("b")
    assert not everything.watches("a", "EURUSD")
    assert narrow.wants("a")
    assert not narrow.wants("b")
    assert narrow.watches("a", "EURUSD")
    assert not narrow.watches("a", "GBPUSD")

"""A dead-lettered trade is concluded from broker truth: FAILED only when the broker has no trace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3

from infra.local.queues import QueuePoller
from mtcore.accounts.access import get_metaapi_access
from mtcore.accounts.repository import get_accounts_repository
from mtcore.metaapi.models import MetaApiTrade, TradeAction
from mtcore.trading.broker_truth import SENT
from mtcore.trading.models import TradeKind, TradeRequest, TradeStatus
from mtcore.trading.queue import TradeMessage
from mtcore.trading.repository import get_trades_repository
from tests.integration.conftest import Api, Simulator

ACCOUNTS = "/api/metatrader/accounts"


def _stuck_in_sending(account_id: str, *, sent_ago: timedelta = timedelta(minutes=1)) -> TradeRequest:
    """A request sent `sent_ago`, whose outcome the order queue never learned."""
    sent = datetime.now(UTC) - sent_ago
    request = TradeRequest(
        account_id=account_id, user_id="alice", kind=TradeKind.OPEN, action=TradeAction.BUY, symbol="EURUSD",
        volume=Decimal("0.1"), expires_at=sent + timedelta(minutes=1), created_at=sent, updated_at=sent,
    )  # fmt: skip
    trades = get_trades_repository()
    trades.put_new(request)
    return trades.transition(request, TradeStatus.SENDING, expected={TradeStatus.QUEUED}, at=sent, note=SENT)


def _queued(account_id: str) -> TradeRequest:
    now = datetime.now(UTC)
    request = TradeRequest(
        account_id=account_id, user_id="alice", kind=TradeKind.CLOSE, action=TradeAction.POSITION_CLOSE_ID,
        position_id="123", created_at=now, updated_at=now,
    )  # fmt: skip
    get_trades_repository().put_new(request)
    return request


def _dead_letter(poller: QueuePoller, body: str, group: str) -> None:
    boto3.client("sqs").send_message(
        QueueUrl=poller.queue_url, MessageBody=body, MessageGroupId=group,
        MessageDeduplicationId=str(hash(body)),
    )  # fmt: skip
    while poller.poll_once():
        pass


def test_no_trace_at_the_broker_is_failed(linked: tuple[str, str], dead_letter_poller: QueuePoller) -> None:
    _, account_id = linked
    request = _stuck_in_sending(account_id)

    _dead_letter(
        dead_letter_poller,
        TradeMessage(account_id=account_id, trade_id=request.id).model_dump_json(),
        account_id,
    )

    final = get_trades_repository().get(account_id, request.id)
    assert final.status is TradeStatus.FAILED
    assert "not executed: no position, order, deal or history order carries" in (final.reason or "")


def test_no_trace_right_after_the_send_is_unknown_not_failed(
    linked: tuple[str, str], dead_letter_poller: QueuePoller
) -> None:
    # A broker may still execute a send it timed out on: absence proves nothing this early.
    _, account_id = linked
    request = _stuck_in_sending(account_id, sent_ago=timedelta(seconds=2))

    _dead_letter(
        dead_letter_poller,
        TradeMessage(account_id=account_id, trade_id=request.id).model_dump_json(),
        account_id,
    )

    final = get_trades_repository().get(account_id, request.id)
    assert final.status is TradeStatus.UNKNOWN
    assert "too soon after its send to be sure" in (final.reason or "")


def test_a_dead_letter_of_an_unlinked_account_ends_with_its_reason(
    api: Api, linked: tuple[str, str], dead_letter_poller: QueuePoller
) -> None:
    _, account_id = linked
    sending = _stuck_in_sending(account_id)
    queued = _queued(account_id)
    # The account's partition goes with the unlink, but a request still in flight stays.
    assert api.call("DELETE", f"{ACCOUNTS}/{account_id}", user="alice").status == 409
    get_accounts_repository().unlink(get_accounts_repository().get("alice", account_id))

    for request in (sending, queued):
        _dead_letter(
            dead_letter_poller,
            TradeMessage(account_id=account_id, trade_id=request.id).model_dump_json(),
            account_id,
        )

    ended = [get_trades_repository().get(account_id, request.id) for request in (sending, queued)]
    assert [(trade.status, trade.reason) for trade in ended] == [
        (
            TradeStatus.UNKNOWN,
            "the account was unlinked while it was being sent: "
            "whether it executed cannot be checked until it can be",
        ),
        (TradeStatus.CANCELED, "not sent: the account was unlinked"),
    ]


def test_an_executed_trade_is_found_not_failed(
    linked: tuple[str, str], simulator: Simulator, dead_letter_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    request = _stuck_in_sending(account_id)
    account = get_accounts_repository().get("alice", account_id)
    get_metaapi_access().for_account(account).trade(
        (metaapi_id, account.region),
        MetaApiTrade(
            action_type=TradeAction.BUY, symbol="EURUSD", volume=Decimal("0.1"), client_id=request.client_id
        ),
    )

    _dead_letter(
        dead_letter_poller,
        TradeMessage(account_id=account_id, trade_id=request.id).model_dump_json(),
        account_id,
    )

    assert get_trades_repository().get(account_id, request.id).status is TradeStatus.EXECUTED


def test_when_the_broker_cannot_be_asked_it_is_unknown(
    linked: tuple[str, str], simulator: Simulator, dead_letter_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    request = _stuck_in_sending(account_id)
    simulator.fault(metaapi_id, "positions", "http_500", count=20)

    _dead_letter(
        dead_letter_poller,
        TradeMessage(account_id=account_id, trade_id=request.id).model_dump_json(),
        account_id,
    )

    final = get_trades_repository().get(account_id, request.id)
    assert final.status is TradeStatus.UNKNOWN
    assert "next full sync" in (final.reason or "")


def test_an_unreadable_dead_letter_is_dropped(
    linked: tuple[str, str], dead_letter_poller: QueuePoller
) -> None:
    _dead_letter(dead_letter_poller, "not a trade message", "poison")

    assert dead_letter_poller.poll_once() == 0  # deleted, not redelivered

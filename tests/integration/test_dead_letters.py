"""A dead-lettered trade is concluded from broker truth: FAILED only when the broker has no trace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3
import pytest

from infra.local.queues import QueuePoller
from mtcore.logic.metaapi_access import get_metaapi_access
from mtcore.metaapi.models import TradeAction
from mtcore.metaapi.models import TradeRequest as MetaApiTrade
from mtcore.repositories.accounts import get_accounts_repository
from mtcore.repositories.trades import get_trades_repository
from mtcore.trades.models import TradeKind, TradeRequest, TradeStatus
from mtcore.trades.queue import TradeMessage
from tests.integration.conftest import Api, Simulator

ACCOUNTS = "/api/metatrader/accounts"


@pytest.fixture
def linked(api: Api, simulator: Simulator) -> tuple[str, str]:
    metaapi_id = simulator.account(metadata={"userId": "alice"})
    account_id = api.call("POST", ACCOUNTS, user="alice", body={"metaapiAccountId": metaapi_id}).body["id"]
    return metaapi_id, account_id


def _stuck_in_sending(account_id: str) -> TradeRequest:
    now = datetime.now(UTC)
    request = TradeRequest(
        account_id=account_id, user_id="alice", kind=TradeKind.OPEN, action=TradeAction.BUY, symbol="EURUSD",
        volume=Decimal("0.1"), expires_at=now + timedelta(minutes=1), created_at=now, updated_at=now,
    )  # fmt: skip
    trades = get_trades_repository()
    trades.put_new(request)
    return trades.transition(request, TradeStatus.SENDING, expected={TradeStatus.QUEUED}, at=now)


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
    assert "no trace" in (final.reason or "")


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

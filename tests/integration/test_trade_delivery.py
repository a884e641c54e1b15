"""Deliveries of the order queue, as Lambda's event source makes them: nothing holds an account's
group longer than the wait meant for it, and a request whose broker cannot be reached any more
still ends with a final status and a reason."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from infra.local.queues import QueuePoller
from mtcore.accounts.repository import get_accounts_repository
from mtcore.aws import secretsmanager_client
from mtcore.metaapi.models import TradeAction
from mtcore.trading.broker_truth import SENT
from mtcore.trading.models import SETTLED, TradeKind, TradeRequest, TradeStatus
from mtcore.trading.queue import get_trade_queue
from mtcore.trading.repository import get_trades_repository
from tests.containers import new_container
from tests.integration.conftest import Api, Simulator, trades_log

ACCOUNTS = "/api/metatrader/accounts"
ORDER = {"symbol": "EURUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.1}


def _deliver_until_settled(poller: QueuePoller, account_id: str, trade_ids: list[str], within: float) -> None:
    """Poll the queue as Lambda would until every trade is settled, or `within` seconds pass."""
    trades = get_trades_repository()
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(trades.get(account_id, trade_id).status in SETTLED for trade_id in trade_ids):
            return
        if poller.poll_once() == 0:
            time.sleep(0.2)


def _status(account_id: str, trade_id: str) -> tuple[TradeStatus, str | None]:
    request = get_trades_repository().get(account_id, trade_id)
    return request.status, request.reason


def test_a_short_retry_does_not_hold_the_accounts_next_trade(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    simulator.fault(metaapi_id, "trade", "http_429", retryAfterSeconds=1)
    first, second = (
        api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER).body for _ in range(2)
    )

    # Far less than the queue's visibility timeout (120 s), which a skipped record would wait out
    _deliver_until_settled(executor_poller, account_id, [first["id"], second["id"]], within=15)

    assert [_status(account_id, trade["id"])[0] for trade in (first, second)] == [TradeStatus.EXECUTED] * 2
    executed = [entry["body"]["clientId"] for entry in trades_log(simulator, metaapi_id) if entry["executed"]]
    assert executed == [first["clientId"], second["clientId"]]  # still in the order they were placed


def _written(account_id: str, **fields: Any) -> TradeRequest:
    now = datetime.now(UTC)
    request = TradeRequest(
        account_id=account_id, user_id="alice", created_at=now, updated_at=now,
        **({"kind": TradeKind.OPEN, "action": TradeAction.BUY, "symbol": "EURUSD", "volume": Decimal("0.1")}
           | fields),
    )  # fmt: skip
    get_trades_repository().put_new(request)
    return request


def test_a_trade_of_an_account_unlinked_meanwhile_is_canceled_unsent(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    # Given the account is unlinked while a trade for it is being accepted
    assert api.call("DELETE", f"{ACCOUNTS}/{account_id}", user="alice").status == 204
    late = _written(account_id)
    assert get_trade_queue().send(late)

    _deliver_until_settled(executor_poller, account_id, [late.id], within=5)

    assert _status(account_id, late.id) == (TradeStatus.CANCELED, "not sent: the account was unlinked")
    assert trades_log(simulator, metaapi_id) == []
    assert executor_poller.poll_once() == 0  # nothing left in the account's group


def test_unlinking_is_refused_while_a_trade_is_in_flight_and_never_deletes_it(
    api: Api, linked: tuple[str, str]
) -> None:
    _, account_id = linked
    queued = _written(account_id)

    refused = api.call("DELETE", f"{ACCOUNTS}/{account_id}", user="alice")

    assert refused.status == 409
    assert refused.body["code"] == "TRADES_IN_FLIGHT"
    assert api.call("GET", f"{ACCOUNTS}/{account_id}", user="alice").status == 200
    assert get_trades_repository().find(account_id, queued.id) is not None


def test_a_removed_user_token_ends_queued_and_sending_trades_with_its_reason(
    api: Api, simulator: Simulator, executor_poller: QueuePoller
) -> None:
    # Given an account linked with alice's own MetaApi token, then the token removed
    own_token = "alices-own-metaapi-token"
    metaapi_id = simulator.account(token=own_token)
    assert api.call("PUT", "/api/metatrader/settings/metaapi-token", user="alice",
                    body={"token": own_token}).status == 200  # fmt: skip
    account_id = api.call("POST", ACCOUNTS, user="alice", body={"metaapiAccountId": metaapi_id}).body["id"]
    queued = _written(account_id)
    sending = _written(account_id)
    trades = get_trades_repository()
    trades.transition(
        sending, TradeStatus.SENDING, expected={TradeStatus.QUEUED}, at=datetime.now(UTC), note=SENT
    )
    assert api.call("DELETE", "/api/metatrader/settings/metaapi-token", user="alice").status == 204
    for request in (queued, sending):
        assert get_trade_queue().send(request)

    _deliver_until_settled(executor_poller, account_id, [queued.id, sending.id], within=5)

    assert _status(account_id, queued.id)[0] is TradeStatus.REJECTED
    assert "not sent: This account was linked with your own MetaApi token" in (
        _status(account_id, queued.id)[1] or ""
    )
    assert _status(account_id, sending.id)[0] is TradeStatus.UNKNOWN
    assert trades_log(simulator, metaapi_id) == []


@pytest.fixture
def secrets_fault(aws: Any) -> Iterator[Callable[[int], None]]:
    """Secrets Manager fails the next `count` token reads of the container's client."""
    left = [0]

    def fail_read(**_: Any) -> None:
        if left[0]:
            left[0] -= 1
            raise EndpointConnectionError(endpoint_url="https://secretsmanager.invalid")

    def arm(count: int) -> None:
        left[0] = count
        secretsmanager_client().meta.events.register("before-call.secrets-manager.GetSecretValue", fail_read)

    yield arm
    left[0] = 0


def test_a_failure_on_our_side_comes_back_in_seconds_not_after_the_visibility_timeout(
    api: Api,
    simulator: Simulator,
    linked: tuple[str, str],
    executor_poller: QueuePoller,
    secrets_fault: Callable[[int], None],
) -> None:
    metaapi_id, account_id = linked
    trade = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER).body
    new_container()  # the executor reads the platform token afresh
    secrets_fault(1)

    started = time.monotonic()
    _deliver_until_settled(executor_poller, account_id, [trade["id"]], within=15)

    assert _status(account_id, trade["id"])[0] is TradeStatus.EXECUTED
    assert 4 <= time.monotonic() - started < 15  # its retry came back after the short wait
    assert len(trades_log(simulator, metaapi_id)) == 1


def test_a_close_never_expires_while_its_retries_take_longer_than_the_order_expiry(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    assert (
        api.call("PUT", f"{ACCOUNTS}/{account_id}", user="alice", body={"orderExpirySeconds": 1}).status
        == 200
    )
    single = simulator.open_position(metaapi_id, volume=0.1)
    simulator.open_position(metaapi_id, symbol="XAUUSD", volume=0.1)
    simulator.fault(metaapi_id, "trade", "http_429", retryAfterSeconds=2, count=2)

    close = api.call("DELETE", f"{ACCOUNTS}/{account_id}/positions/{single['id']}", user="alice").body
    close_all = api.call(
        "DELETE", f"{ACCOUNTS}/{account_id}/positions", user="alice", query={"symbol": "XAUUSD"}
    )
    _deliver_until_settled(executor_poller, account_id, [close["id"], close_all.body["id"]], within=20)

    assert close["expiresAt"] is None
    assert [_status(account_id, trade_id)[0] for trade_id in (close["id"], close_all.body["id"])] == [
        TradeStatus.EXECUTED
    ] * 2
    assert all(
        get_trades_repository().get(account_id, child).expires_at is None
        for child in close_all.body["children"]
    )
    assert simulator.sim_positions(metaapi_id) == []
    assert get_accounts_repository().get("alice", account_id).order_expiry_seconds == 1

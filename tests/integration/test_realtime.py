"""Live pushes: the real authorizer, routes, broadcaster and price pump behind the local WebSocket
API, against moto and the simulator, with real WebSocket clients."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from infra.local.gateway import LambdaContext
from infra.local.resources import (
    LocalResources,
    function_environment,
    queue_subscriptions,
    stream_subscriptions,
)
from infra.local.tokens import AUDIENCE, ISSUER, JWKS_PATH, DevTokens
from tests.containers import new_container
from tests.integration.conftest import Api, Simulator

ACCOUNTS = "/api/metatrader/accounts"
ORDER = {"symbol": "BTCUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.01}
AUTHORIZER = "functions.realtime_authorizer.handler.lambda_handler"
ROUTES = "functions.realtime.handler.lambda_handler"
BROADCASTER = "functions.broadcaster.handler.lambda_handler"
PUMP = "functions.price_pump.handler.lambda_handler"


@dataclass
class Live:
    """The local WebSocket API with its management API, and the pollers behind it."""

    url: str
    tokens: DevTokens
    pump: Any
    pump_queue_url: str
    _pipeline: Callable[[], None]

    def connect(self, user: str) -> ClientConnection:
        return connect(f"{self.url}/?token={self.tokens.issue(user)}", open_timeout=10)

    def deliver(self) -> None:
        """Settled writes through the stream, the bus and the broadcaster, as Lambda would run them."""
        self._pipeline()


@pytest.fixture
def live(
    aws: LocalResources, template: dict[str, Any], simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Live]:
    from infra.local.queues import QueuePoller, StreamPoller, load_handler
    from infra.local.stack import serve_in_thread
    from infra.local.websocket import LocalWebSocketApi

    for handler in (AUTHORIZER, ROUTES, BROADCASTER, PUMP):
        for name, value in function_environment(template, handler, aws).items():
            monkeypatch.setenv(name, value)
    tokens = DevTokens()
    keys = serve_in_thread(
        lambda environ, start: _json(start, tokens.jwks()) if environ["PATH_INFO"] == JWKS_PATH else [],
        "127.0.0.1",
        0,
    )
    api = LocalWebSocketApi(authorizer=load_handler(AUTHORIZER), routes=load_handler(ROUTES), stage="local")
    port = api.start("127.0.0.1", 0)
    management = serve_in_thread(api.management_app(), "127.0.0.1", 0)
    monkeypatch.setenv("JWKS_URL", f"http://127.0.0.1:{keys.server_port}{JWKS_PATH}")
    monkeypatch.setenv("JWT_ISSUER", ISSUER)
    monkeypatch.setenv("JWT_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", f"http://127.0.0.1:{management.server_port}")
    monkeypatch.setenv("PRICE_PUMP_SECONDS", "4")
    new_container()  # settings and the token verifier as this deployment has them
    subscriptions = {s.handler: s for s in queue_subscriptions(template, aws)}
    sqs = boto3.client("sqs")
    pollers = {
        handler: QueuePoller(sqs, subscriptions[handler], load_handler(handler))
        for handler in (BROADCASTER, PUMP, "functions.executor.handler.lambda_handler")
    }
    stream_subscription = stream_subscriptions(template, aws)[0]
    stream = StreamPoller(
        boto3.client("dynamodb"),
        boto3.client("dynamodbstreams"),
        stream_subscription,
        load_handler(stream_subscription.handler),
    )

    def pipeline() -> None:
        for _ in range(3):
            pollers["functions.executor.handler.lambda_handler"].poll_once()
            stream.poll_once()
            while pollers[BROADCASTER].poll_once():
                pass

    yield Live(f"ws://127.0.0.1:{port}", tokens, pollers[PUMP], subscriptions[PUMP].queue_url, pipeline)
    api.stop()
    for server in (keys, management):
        server.shutdown()
        server.server_close()


def _json(start: Callable[..., Any], payload: dict[str, Any]) -> list[bytes]:
    start("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(payload).encode()]


def frames(client: ClientConnection, *, seconds: float) -> list[dict[str, Any]]:
    """Every frame the client receives within `seconds`."""
    received, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            received.append(json.loads(client.recv(timeout=left)))
        except TimeoutError:
            break
    return received


def answer_to(client: ClientConnection, action: dict[str, Any]) -> dict[str, Any]:
    client.send(json.dumps(action))
    answer: dict[str, Any] = json.loads(client.recv(timeout=5))
    return answer


def test_a_connection_needs_a_valid_token(live: Live) -> None:
    with pytest.raises(InvalidStatus) as missing:
        connect(live.url, open_timeout=5)
    with pytest.raises(InvalidStatus) as forged:
        connect(f"{live.url}/?token={DevTokens().issue('alice')}", open_timeout=5)

    assert missing.value.response.status_code == 401
    assert forged.value.response.status_code == 403
    with live.connect("alice") as alice:
        assert answer_to(alice, {"action": "ping"})["type"] == "pong"


def test_a_trade_reaches_its_owner_as_trade_then_position_and_nobody_else(
    live: Live, api: Api, linked: tuple[str, str]
) -> None:
    _, account_id = linked
    with live.connect("alice") as alice, live.connect("bob") as bob:
        started = time.monotonic()
        placed = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER)
        live.deliver()
        seen = frames(alice, seconds=1.0)
        elapsed = time.monotonic() - started

        assert placed.status == 202
        kinds = [(frame["type"], frame.get("detailType")) for frame in seen]
        assert ("mt:trade", "TradeExecuted") in kinds
        assert ("mt:position", "PositionOpened") in kinds
        assert kinds.index(("mt:trade", "TradeExecuted")) < kinds.index(("mt:position", "PositionOpened"))
        trade = next(frame for frame in seen if frame["type"] == "mt:trade")
        assert trade["accountId"] == account_id
        assert trade["data"]["id"] == placed.body["id"]
        assert trade["eventId"]
        assert "userId" not in trade["data"]
        assert elapsed < 2 + 1.0
        assert frames(bob, seconds=0.5) == []


def test_a_subscription_narrows_pushes_and_another_users_account_subscribes_nothing(
    live: Live, api: Api, linked: tuple[str, str], simulator: Simulator
) -> None:
    _, account_id = linked
    bobs_metaapi = simulator.account(metadata={"userId": "bob"})
    bobs = api.call("POST", ACCOUNTS, user="bob", body={"metaapiAccountId": bobs_metaapi}).body["id"]
    with live.connect("alice") as alice:
        refused = answer_to(alice, {"action": "subscribe", "accountId": bobs})
        bad = answer_to(alice, {"action": "dance"})
        subscribed = answer_to(alice, {"action": "subscribe", "accountId": account_id})

        assert refused["type"] == "error"
        assert refused["data"]["message"] == f"No account {bobs}"
        assert bad["type"] == "error"
        assert subscribed["type"] == "subscribed"
        assert subscribed["data"]["subscriptions"] == {account_id: []}
        unsubscribed = answer_to(alice, {"action": "unsubscribe"})
        assert unsubscribed["data"]["subscriptions"] == {}


def test_a_connection_that_is_gone_is_pruned(live: Live, api: Api, linked: tuple[str, str]) -> None:
    from mtcore.realtime.connections import get_connections_repository

    _, account_id = linked
    connections = get_connections_repository()
    connections.connect("gone12345678=", "alice", datetime.now(UTC))
    with live.connect("alice") as alice:
        api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER)
        live.deliver()

        assert frames(alice, seconds=0.5)
    assert connections.get("gone12345678=") is None
    # Alice's own connection goes on $disconnect, once the socket has closed.
    deadline = time.monotonic() + 5
    while connections.of_user("alice") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert connections.of_user("alice") == []


def test_prices_flow_while_watched_and_stop_after_the_last_unsubscribe(
    live: Live, linked: tuple[str, str], simulator: Simulator
) -> None:
    _, account_id = linked
    with live.connect("alice") as alice:
        subscribed = answer_to(alice, {"action": "subscribe", "accountId": account_id, "symbols": ["BTCUSD"]})
        assert subscribed["type"] == "subscribed"
        live.pump.poll_once()  # one pump run: it pumps, then hands itself on
        prices = [frame for frame in frames(alice, seconds=0.5) if frame["type"] == "mt:price"]

        assert len(prices) >= 2
        assert {frame["data"]["symbol"] for frame in prices} == {"BTCUSD"}
        assert all(frame["data"]["bid"] < frame["data"]["ask"] for frame in prices)
        handed_on = boto3.client("sqs").get_queue_attributes(
            QueueUrl=live.pump_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        assert int(handed_on["Attributes"]["ApproximateNumberOfMessages"]) == 1

        assert answer_to(alice, {"action": "unsubscribe", "accountId": account_id})["type"] == "unsubscribed"
        calls_before = simulator.calls().get("current-price", 0)
        started = time.monotonic()
        live.pump.poll_once()  # the handed-on run finds nobody watching and stops at once

        assert time.monotonic() - started < 2
        assert simulator.calls().get("current-price", 0) == calls_before
        assert [frame for frame in frames(alice, seconds=0.3) if frame["type"] == "mt:price"] == []


def test_a_client_that_reconnects_gets_what_it_missed(live: Live, api: Api, linked: tuple[str, str]) -> None:
    _, account_id = linked
    with live.connect("alice") as alice:
        api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER)
        live.deliver()
        last_seen = frames(alice, seconds=0.5)[-1]["eventId"]
    for _ in range(3):
        api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER)
        live.deliver()

    with live.connect("alice"):
        missed = api.call("GET", "/api/metatrader/events", user="alice", query={"after": last_seen}).body[
            "items"
        ]

    trades = [frame for frame in missed if frame["type"] == "mt:trade"]
    assert len(trades) == 3
    assert [frame["eventId"] for frame in missed] == sorted(frame["eventId"] for frame in missed)
    assert all(frame["eventId"] > last_seen for frame in missed)
    assert api.call("GET", "/api/metatrader/events", user="bob").body["items"] == []


def test_a_pump_message_delivered_twice_runs_one_pump(
    live: Live, linked: tuple[str, str], simulator: Simulator
) -> None:
    from functions.price_pump.handler import lambda_handler

    _, account_id = linked
    sqs = boto3.client("sqs")
    with live.connect("alice") as alice:
        answer_to(alice, {"action": "subscribe", "accountId": account_id, "symbols": ["BTCUSD"]})
        [start] = sqs.receive_message(QueueUrl=live.pump_queue_url, VisibilityTimeout=60)["Messages"]

        def pump_run(message: Any) -> None:
            record = {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:pump",
                "awsRegion": "us-east-1",
            }
            context: Any = LambdaContext("pump", time.monotonic() + 65, str(uuid.uuid4()))
            assert lambda_handler({"Records": [record]}, context) == {"batchItemFailures": []}

        pump_run(start)  # pumps, then hands on under a new owner
        calls = simulator.calls().get("current-price", 0)
        started = time.monotonic()
        pump_run(start)  # SQS delivers the same message again (at least once)

        assert time.monotonic() - started < 1
        assert simulator.calls().get("current-price", 0) == calls


def test_a_pump_a_subscription_just_asked_for_keeps_its_lease_while_the_index_catches_up(live: Live) -> None:
    from datetime import timedelta

    from mtcore.realtime.connections import get_connections_repository

    connections = get_connections_repository()
    now = datetime.now(UTC)
    lease = now + timedelta(seconds=15)
    assert connections.claim_pump("pump-a", now, lease)
    assert not connections.claim_pump("pump-b", now, lease)  # a subscription finds it running
    assert connections.want_pump(now)

    # The running pump's index shows nobody yet: the lease is kept, not released.
    assert connections.release_pump("pump-a", now - timedelta(seconds=10)) is False
    assert not connections.claim_pump("pump-b", now, lease)
    # Once the subscription is older than the index's lag, nobody watching means stop.
    assert connections.release_pump("pump-a", now + timedelta(seconds=1)) is True
    assert connections.claim_pump("pump-b", now, lease)
    # A pump whose lease another took over stops: it has nothing to keep.
    assert connections.release_pump("pump-a", now - timedelta(seconds=10)) is True
    assert not connections.claim_pump("pump-a", now, lease)

"""Trading through the API: accepted at once, executed by the executor from the order queue."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from infra.local.queues import QueuePoller
from mtcore.aws import sqs_client
from mtcore.trading.queue import get_trade_queue
from mtcore.trading.repository import get_trades_repository
from mtcore.trading.sweeper import sweep
from tests.containers import new_container
from tests.integration.conftest import Api, Simulator, trades_log

ACCOUNTS = "/api/metatrader/accounts"
ORDER = {"symbol": "EURUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.1}


def _drain(poller: QueuePoller, rounds: int = 10) -> None:
    for _ in range(rounds):
        if poller.poll_once() == 0:
            return


def test_a_market_order_is_accepted_then_executed(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked

    accepted = api.call(
        "POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body={**ORDER, "comment": "dash"}
    )
    _drain(executor_poller)
    final = api.call("GET", f"{ACCOUNTS}/{account_id}/trades/{accepted.body['id']}", user="alice")

    assert accepted.status == 202
    assert accepted.body["status"] == "QUEUED"
    assert accepted.headers["Location"] == [f"{ACCOUNTS}/{account_id}/trades/{accepted.body['id']}"]
    assert len(accepted.body["clientId"]) == 10
    assert final.body["status"] == "EXECUTED"
    assert final.body["broker"]["stringCode"] == "TRADE_RETCODE_DONE"
    assert [step["status"] for step in final.body["timeline"]] == ["QUEUED", "SENDING", "EXECUTED"]
    log = trades_log(simulator, metaapi_id)
    assert [(entry["body"]["clientId"], entry["body"]["comment"]) for entry in log] == [
        (accepted.body["clientId"], "dash")
    ]


def test_a_new_containers_first_order_reads_what_its_checks_need_side_by_side(
    api: Api, simulator: Simulator, linked: tuple[str, str]
) -> None:
    _, account_id = linked
    new_container()
    # Each call held long enough that calls sent together are seen in flight together.
    simulator.set_latency(0.3)

    accepted = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER)

    # The specification, the price, the account information and the broker's clock at once.
    assert simulator.peak_in_flight() == 4
    assert accepted.status == 202, accepted.body


def test_a_repeated_idempotency_key_places_one_order(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    key = {"Idempotency-Key": "order-7f3a"}

    answers = [
        api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER, headers=key)
        for _ in range(5)
    ]
    other_body = api.call(
        "POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body={**ORDER, "volume": 0.2}, headers=key
    )
    bobs_same_key = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="bob", body=ORDER, headers=key)
    _drain(executor_poller)

    assert {answer.body["id"] for answer in answers} == {answers[0].body["id"]}
    assert (other_body.status, other_body.body["details"][0]["field"]) == (422, "header.Idempotency-Key")
    assert bobs_same_key.status == 404  # not bob's account: the key does not leak across tenants
    assert len(trades_log(simulator, metaapi_id)) == 1


class KilledMidCall(BaseException):
    """The function's container stopped (a timeout, a crash) in the middle of the call."""


@pytest.fixture
def queue_fault(aws: Any) -> Iterator[Callable[[BaseException], None]]:
    """The order queue fails the function's next send with the given error."""
    armed: list[BaseException] = []

    def fail_send(**_: Any) -> None:
        if armed:
            raise armed.pop()

    events = sqs_client().meta.events
    events.register("before-call.sqs.SendMessage", fail_send)
    yield armed.append
    events.unregister("before-call.sqs.SendMessage", fail_send)


@pytest.mark.parametrize(
    "failure",
    [EndpointConnectionError(endpoint_url="https://sqs.invalid"), KilledMidCall()],
    ids=["queue-refused", "killed-after-writing"],
)
def test_a_repeat_after_the_queue_failed_answers_the_same_request_and_one_order_executes(
    api: Api,
    simulator: Simulator,
    linked: tuple[str, str],
    executor_poller: QueuePoller,
    queue_fault: Callable[[BaseException], None],
    failure: BaseException,
) -> None:
    metaapi_id, account_id = linked
    key = {"Idempotency-Key": "queue-trouble"}
    queue_fault(failure)

    # Given the first call wrote its request but its message never reached the queue
    try:
        first = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER, headers=key)
    except KilledMidCall:
        first = None
    # When the caller repeats it, and the sweeper looks at what was never sent
    repeat = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER, headers=key)
    _drain(executor_poller)
    later = datetime.now(UTC) + timedelta(minutes=4)
    sweep(later, trades=get_trades_repository(), queue=get_trade_queue())
    _drain(executor_poller)

    # Then one request stands for the key, answered 202 each time, and one order executed
    stored = api.call("GET", f"{ACCOUNTS}/{account_id}/trades", user="alice").body["items"]
    assert [trade["id"] for trade in stored] == [repeat.body["id"]]
    if first is not None:
        assert (first.status, first.body["id"]) == (202, repeat.body["id"])
    assert repeat.status == 202
    assert stored[0]["status"] == "EXECUTED"
    assert len(trades_log(simulator, metaapi_id)) == 1


def test_closing_a_position_fully_and_in_part(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    whole = simulator.open_position(metaapi_id, volume=0.2)
    part = simulator.open_position(metaapi_id, volume=0.5)

    closed = api.call("DELETE", f"{ACCOUNTS}/{account_id}/positions/{whole['id']}", user="alice")
    reduced = api.call(
        "DELETE", f"{ACCOUNTS}/{account_id}/positions/{part['id']}", user="alice", query={"volume": "0.3"}
    )
    too_much = api.call(
        "DELETE", f"{ACCOUNTS}/{account_id}/positions/{part['id']}", user="alice", query={"volume": "9"}
    )
    _drain(executor_poller)

    assert (closed.status, closed.body["action"]) == (202, "POSITION_CLOSE_ID")
    assert (reduced.status, reduced.body["action"]) == (202, "POSITION_PARTIAL")
    assert too_much.status == 422
    remaining = simulator.sim_positions(metaapi_id)
    assert [(p["id"], p["volume"]) for p in remaining] == [(part["id"], 0.2)]
    for trade in (closed, reduced):
        final = api.call("GET", f"{ACCOUNTS}/{account_id}/trades/{trade.body['id']}", user="alice")
        assert final.body["status"] == "EXECUTED"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**ORDER, "volume": 0}, "body.volume"),
        ({**ORDER, "actionType": "ORDER_TYPE_BUY_NOW"}, "body.actionType"),
        ({**ORDER, "symbol": "EUR USD"}, "body.symbol"),
        ({**ORDER, "comment": "x" * 17}, "body.comment"),
        ({**ORDER, "expiresInSeconds": 0}, "body.expiresInSeconds"),
        ({**ORDER, "sizing": {"mode": "risk_percent", "percent": 0}}, "body.sizing.risk_percent.percent"),
    ],
)
def test_malformed_orders_are_422_naming_the_field(
    api: Api, simulator: Simulator, linked: tuple[str, str], body: dict[str, Any], field: str
) -> None:
    _, account_id = linked

    answer = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=body)

    assert answer.status == 422
    assert answer.body["details"][0]["field"] == field


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({**ORDER, "actionType": "ORDER_TYPE_BUY_LIMIT"}, "ORDER_TYPE_BUY_LIMIT needs openPrice"),
        (
            {**ORDER, "openPrice": 1.08},
            "openPrice, stopLimitPrice and expiration are for pending orders only",
        ),
        (
            {**ORDER, "actionType": "ORDER_TYPE_SELL_STOP_LIMIT", "openPrice": 1.08},
            "ORDER_TYPE_SELL_STOP_LIMIT needs stopLimitPrice",
        ),
        ({"symbol": "EURUSD", "actionType": "ORDER_TYPE_BUY"}, "send volume or sizing, one of them"),
        ({**ORDER, "sizing": {"mode": "fixed", "volume": 0.1}}, "send volume or sizing, one of them"),
        ({**ORDER, "sizeAt": "execution"}, "sizeAt is for an order sent with sizing"),
    ],
)
def test_fields_of_another_order_type_are_422_saying_which(
    api: Api, simulator: Simulator, linked: tuple[str, str], body: dict[str, Any], named: str
) -> None:
    _, account_id = linked

    answer = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=body)

    assert answer.status == 422
    assert named in answer.body["details"][0]["message"]


def test_another_tenants_account_and_trades_are_404(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    alices = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER).body["id"]
    position = simulator.open_position(metaapi_id)

    order = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="bob", body=ORDER)
    close = api.call("DELETE", f"{ACCOUNTS}/{account_id}/positions/{position['id']}", user="bob")
    trade = api.call("GET", f"{ACCOUNTS}/{account_id}/trades/{alices}", user="bob")
    _drain(executor_poller)

    assert [order.status, close.status, trade.status] == [404, 404, 404]
    assert len(trades_log(simulator, metaapi_id)) == 1  # alice's order only


def test_trades_are_listed_newest_first_filtered_and_paged(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    simulator.fault(metaapi_id, "trade", "invalid_stops")
    ids = [
        api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER).body["id"]
        for _ in range(3)
    ]
    _drain(executor_poller)
    path = f"{ACCOUNTS}/{account_id}/trades"

    first = api.call("GET", path, user="alice", query={"limit": "2"}).body
    second = api.call("GET", path, user="alice", query={"limit": "2", "nextToken": first["nextToken"]}).body
    rejected = api.call("GET", path, user="alice", query={"status": "REJECTED"}).body
    unknown_status = api.call("GET", path, user="alice", query={"status": "DONE"})
    bobs = api.call("GET", path, user="bob")

    assert [t["id"] for t in first["items"] + second["items"]] == ids[::-1]
    assert second["nextToken"] is None
    assert [t["id"] for t in rejected["items"]] == [ids[0]]
    assert unknown_status.status == 422
    assert bobs.status == 404


def test_account_expiry_and_slippage_apply_to_market_orders(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    settings = api.call(
        "PUT",
        f"{ACCOUNTS}/{account_id}",
        user="alice",
        body={"orderExpirySeconds": 20, "maxSlippagePoints": 15},
    )

    by_account = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER).body
    by_order = api.call(
        "POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body={**ORDER, "expiresInSeconds": 300}
    ).body
    _drain(executor_poller)

    def lifetime(trade: dict[str, Any]) -> float:
        from datetime import datetime

        created, expires = (
            datetime.fromisoformat(trade[k].replace("Z", "+00:00")) for k in ("createdAt", "expiresAt")
        )
        return (expires - created).total_seconds()

    assert settings.status == 200
    assert (lifetime(by_account), lifetime(by_order)) == (20, 300)
    assert [entry["body"]["slippage"] for entry in trades_log(simulator, metaapi_id)] == [15, 15]


def test_close_by_symbol_then_all_then_nothing(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    for symbol in ("EURUSD", "EURUSD", "XAUUSD"):
        simulator.open_position(metaapi_id, symbol=symbol)
    path = f"{ACCOUNTS}/{account_id}/positions"

    by_symbol = api.call("DELETE", path, user="alice", query={"symbol": "EURUSD"}).body
    _drain(executor_poller)
    after_symbol = [p["symbol"] for p in simulator.sim_positions(metaapi_id)]
    everything = api.call("DELETE", path, user="alice").body
    _drain(executor_poller)
    nothing = api.call("DELETE", path, user="alice").body
    _drain(executor_poller)

    def settled(trade: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = api.call(
            "GET", f"{ACCOUNTS}/{account_id}/trades/{trade['id']}", user="alice"
        ).body
        return answer

    assert (by_symbol["kind"], len(by_symbol["children"])) == ("close_all", 2)
    assert after_symbol == ["XAUUSD"]
    assert (settled(by_symbol)["status"], settled(by_symbol)["reason"]) == (
        "EXECUTED",
        "closed 2 of 2 positions",
    )
    assert settled(everything)["status"] == "EXECUTED"
    assert simulator.sim_positions(metaapi_id) == []
    assert (settled(nothing)["status"], settled(nothing)["children"]) == ("EXECUTED", [])
    assert len(trades_log(simulator, metaapi_id)) == 3  # one close per position, none for the parents


def test_a_close_all_with_a_refused_close_is_partial(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    simulator.open_position(metaapi_id)
    simulator.open_position(metaapi_id)
    simulator.fault(metaapi_id, "trade", "market_closed")

    parent = api.call("DELETE", f"{ACCOUNTS}/{account_id}/positions", user="alice").body
    _drain(executor_poller)
    final = api.call("GET", f"{ACCOUNTS}/{account_id}/trades/{parent['id']}", user="alice").body

    assert (final["status"], final["reason"]) == ("PARTIAL", "closed 1 of 2 positions")
    assert len(simulator.sim_positions(metaapi_id)) == 1

"""Trading through the local stack over HTTP: the real queue poller runs the real executor."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e
# Crypto trades every day, so this runs on any day of the week.
ORDER = {"symbol": "BTCUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.01}


def _broker_orders(stack: RunningStack, metaapi_id: str) -> list[dict[str, object]]:
    log: list[dict[str, object]] = requests.get(
        f"{stack.simulator_url}/_sim/accounts/{metaapi_id}/trades", timeout=10
    ).json()
    return log


def test_an_order_is_executed_and_its_position_closed(
    local_stack: RunningStack, demo: tuple[requests.Session, str, str]
) -> None:
    session, account, _ = demo

    accepted = session.post(f"{account}/orders", json=ORDER, timeout=10)
    final = session.get(f"{local_stack.url}{accepted.headers['Location']}", params={"wait": 10}, timeout=20)

    assert accepted.status_code == 202
    assert final.json()["status"] == "EXECUTED", final.json()
    position_id = final.json()["broker"]["positionId"]
    closing = session.delete(f"{account}/positions/{position_id}", timeout=10)
    closed = session.get(f"{local_stack.url}{closing.headers['Location']}", params={"wait": 10}, timeout=20)
    assert closed.json()["status"] == "EXECUTED", closed.json()


def test_fifty_concurrent_posts_with_one_key_place_one_order(
    local_stack: RunningStack, demo: tuple[requests.Session, str, str]
) -> None:
    session, account, metaapi_id = demo
    before = len(_broker_orders(local_stack, metaapi_id))
    headers = {"Idempotency-Key": "fifty-at-once", "Authorization": session.headers["Authorization"]}

    def post(_: int) -> requests.Response:
        return requests.post(f"{account}/orders", json=ORDER, headers=headers, timeout=30)

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(post, range(50)))

    accepted = [answer for answer in answers if answer.status_code == 202]
    assert {answer.status_code for answer in answers} <= {202, 409}
    assert len({answer.json()["id"] for answer in accepted}) == 1
    final = session.get(
        f"{local_stack.url}{accepted[0].headers['Location']}", params={"wait": 10}, timeout=20
    )
    assert final.json()["status"] == "EXECUTED"
    assert len(_broker_orders(local_stack, metaapi_id)) == before + 1


def test_a_pending_order_is_placed_changed_and_canceled_over_http(
    local_stack: RunningStack, demo: tuple[requests.Session, str, str]
) -> None:
    session, account, _ = demo
    quote = session.get(f"{account}/quotes/BTCUSD", timeout=10).json()
    below = round(quote["ask"] - 2000, 2)  # far below the market: it rests, whatever the walk does

    placing = session.post(
        f"{account}/orders",
        json={"symbol": "BTCUSD", "actionType": "ORDER_TYPE_BUY_LIMIT", "volume": 0.01, "openPrice": below},
        timeout=10,
    )
    placed = session.get(f"{local_stack.url}{placing.headers['Location']}", params={"wait": 10}, timeout=20)
    order_id = placed.json()["broker"]["orderId"]
    changing = session.put(f"{account}/orders/{order_id}", json={"openPrice": below - 100}, timeout=10)
    changed = session.get(f"{local_stack.url}{changing.headers['Location']}", params={"wait": 10}, timeout=20)
    # The executor stores the orders it reads right after it records the change.
    changed_in_store = _within_seconds(
        5,
        lambda: (
            [(o["id"], o["openPrice"]) for o in session.get(f"{account}/orders", timeout=10).json()]
            == [(order_id, round(below - 100, 2))]
        ),
    )
    canceling = session.delete(f"{account}/orders/{order_id}", timeout=10)
    canceled = session.get(
        f"{local_stack.url}{canceling.headers['Location']}", params={"wait": 10}, timeout=20
    )
    refused = session.post(f"{account}/orders", json={**ORDER, "volume": 0.001}, timeout=10)

    assert (placed.json()["status"], changed.json()["status"], canceled.json()["status"]) == (
        "PLACED",
        "EXECUTED",
        "EXECUTED",
    )
    assert changed_in_store
    assert _within_seconds(5, lambda: session.get(f"{account}/orders", timeout=10).json() == [])
    assert (refused.status_code, refused.json()["code"]) == (422, "VOLUME_TOO_SMALL")


def test_a_closed_position_is_recorded_with_its_profit_within_five_seconds(
    local_stack: RunningStack, demo: tuple[requests.Session, str, str]
) -> None:
    session, account, _ = demo
    accepted = session.post(f"{account}/orders", json=ORDER, timeout=10)
    opened = session.get(
        f"{local_stack.url}{accepted.headers['Location']}", params={"wait": 10}, timeout=20
    ).json()
    position_id = opened["broker"]["positionId"]
    closing = session.delete(f"{account}/positions/{position_id}", timeout=10)
    closed = session.get(
        f"{local_stack.url}{closing.headers['Location']}", params={"wait": 10}, timeout=20
    ).json()
    started = time.monotonic()

    def gone() -> bool:
        return all(p["id"] != position_id for p in session.get(f"{account}/positions", timeout=10).json())

    assert closed["status"] == "EXECUTED"
    assert _within_seconds(5, gone)
    print(f"closed position left the store {time.monotonic() - started:.2f} s after its close settled")
    logs = session.get(f"{account}/sync/logs", timeout=10).json()["items"]
    assert any(log["reason"] == "trade" and log["status"] == "success" for log in logs)


def _within_seconds(seconds: float, condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()

"""Every order type and position action through the API, the order queue and the simulator."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from infra.local.queues import QueuePoller
from tests.containers import new_container
from tests.integration.conftest import Api, Simulator, trades_log

ACCOUNTS = "/api/metatrader/accounts"


@pytest.fixture
def linked(api: Api, simulator: Simulator) -> tuple[str, str]:
    simulator.set_price("EURUSD", 1.08500, 1.08510)
    metaapi_id = simulator.account(metadata={"userId": "alice"})
    account_id = api.call("POST", ACCOUNTS, user="alice", body={"metaapiAccountId": metaapi_id}).body["id"]
    return metaapi_id, account_id


def _settle(api: Api, poller: QueuePoller, account_id: str, trade: dict[str, Any]) -> dict[str, Any]:
    for _ in range(10):
        if poller.poll_once() == 0:
            break
    final: dict[str, Any] = api.call(
        "GET", f"{ACCOUNTS}/{account_id}/trades/{trade['id']}", user="alice"
    ).body
    return final


def _order(api: Api, account_id: str, **body: Any) -> Any:
    return api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=body)


def test_a_buy_limit_rests_then_fills_into_a_position(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    accepted = _order(
        api,
        account_id,
        symbol="EURUSD",
        actionType="ORDER_TYPE_BUY_LIMIT",
        volume=0.157,
        openPrice=1.08300,
        stopLoss=20,
        stopLossUnits="RELATIVE_PIPS",
        expiration={"type": "ORDER_TIME_GTC"},
    )
    placed = _settle(api, executor_poller, account_id, accepted.body)
    stored = api.call("GET", f"{ACCOUNTS}/{account_id}/orders", user="alice").body
    simulator.set_price("EURUSD", 1.08290, 1.08300)
    positions = simulator.sim_positions(metaapi_id)

    assert accepted.status == 202
    assert (accepted.body["volume"], accepted.body["requestedVolume"]) == (0.15, 0.157)
    assert accepted.body["stopLoss"] == 1.081
    assert placed["status"] == "PLACED"
    assert placed["broker"]["stringCode"] == "TRADE_RETCODE_PLACED"
    assert [(o["type"], o["openPrice"], o["stopLoss"], o["clientId"]) for o in stored] == [
        ("ORDER_TYPE_BUY_LIMIT", 1.083, 1.081, accepted.body["clientId"])
    ]
    assert [(p["type"], p["volume"], p["clientId"]) for p in positions] == [
        ("POSITION_TYPE_BUY", 0.15, accepted.body["clientId"])
    ]


def test_a_stop_limit_order_is_sent_with_both_prices(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked

    accepted = _order(
        api,
        account_id,
        symbol="EURUSD",
        actionType="ORDER_TYPE_SELL_STOP_LIMIT",
        volume=0.1,
        openPrice=1.08400,
        stopLimitPrice=1.08450,
    )
    placed = _settle(api, executor_poller, account_id, accepted.body)

    assert placed["status"] == "PLACED"
    sent = trades_log(simulator, metaapi_id)[-1]["body"]
    assert (sent["actionType"], sent["openPrice"], sent["stopLimitPrice"]) == (
        "ORDER_TYPE_SELL_STOP_LIMIT",
        1.084,
        1.0845,
    )


def test_modify_and_cancel_a_pending_order(
    api: Api,
    simulator: Simulator,
    linked: tuple[str, str],
    executor_poller: QueuePoller,
    sync_poller: QueuePoller,
) -> None:
    metaapi_id, account_id = linked
    placed = _settle(
        api,
        executor_poller,
        account_id,
        _order(
            api, account_id, symbol="EURUSD", actionType="ORDER_TYPE_SELL_LIMIT", volume=0.1, openPrice=1.087
        ).body,
    )
    order_id = placed["broker"]["orderId"]

    modified = api.call(
        "PUT",
        f"{ACCOUNTS}/{account_id}/orders/{order_id}",
        user="alice",
        body={"openPrice": 1.088, "takeProfit": 1.086},
    )
    after_modify = _settle(api, executor_poller, account_id, modified.body)
    live = api.call("GET", f"{ACCOUNTS}/{account_id}/orders", user="alice", query={"live": "true"}).body
    canceled = api.call("DELETE", f"{ACCOUNTS}/{account_id}/orders/{order_id}", user="alice")
    after_cancel = _settle(api, executor_poller, account_id, canceled.body)
    before_sync = api.call("GET", f"{ACCOUNTS}/{account_id}/orders", user="alice").body
    api.call("POST", f"{ACCOUNTS}/{account_id}/sync/orders", user="alice")
    sync_poller.poll_once()  # a canceled order leaves the store once sync sees its history order
    stored = api.call("GET", f"{ACCOUNTS}/{account_id}/orders", user="alice").body

    assert (modified.status, after_modify["status"]) == (202, "EXECUTED")
    assert [(o["openPrice"], o["takeProfit"]) for o in live] == [(1.088, 1.086)]
    assert (canceled.status, after_cancel["status"]) == (202, "EXECUTED")
    assert [o["id"] for o in before_sync] == [order_id]
    assert stored == []
    assert [entry["body"]["actionType"] for entry in trades_log(simulator, metaapi_id)] == [
        "ORDER_TYPE_SELL_LIMIT",
        "ORDER_MODIFY",
        "ORDER_CANCEL",
    ]


def test_modify_a_positions_levels_and_trailing_stop(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    position = simulator.open_position(metaapi_id)

    changed = api.call(
        "PUT",
        f"{ACCOUNTS}/{account_id}/positions/{position['id']}",
        user="alice",
        body={
            "stopLoss": 30,
            "stopLossUnits": "RELATIVE_PIPS",
            "takeProfit": 1.0900,
            "trailingStopLoss": {"distance": {"distance": 500, "units": "RELATIVE_POINTS"}},
        },
    )
    final = _settle(api, executor_poller, account_id, changed.body)
    at_broker = simulator.sim_positions(metaapi_id)[0]

    assert changed.status == 202
    expected_stop_loss = Decimal(str(position["openPrice"])) - Decimal("0.0030")
    assert final["status"] == "EXECUTED"
    assert (Decimal(str(at_broker["stopLoss"])), at_broker["takeProfit"]) == (expected_stop_loss, 1.09)
    assert at_broker["trailingStopLoss"] == {"distance": {"distance": 500, "units": "RELATIVE_POINTS"}}


def test_a_partial_close_rounds_down_to_the_step(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    position = simulator.open_position(metaapi_id, volume=0.5)

    accepted = api.call(
        "DELETE",
        f"{ACCOUNTS}/{account_id}/positions/{position['id']}",
        user="alice",
        query={"volume": "0.209"},
    )
    final = _settle(api, executor_poller, account_id, accepted.body)

    assert (accepted.body["volume"], accepted.body["requestedVolume"]) == (0.2, 0.209)
    assert final["status"] == "EXECUTED"
    assert [p["volume"] for p in simulator.sim_positions(metaapi_id)] == [0.3]


def test_close_by_on_a_hedging_account(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    buy = simulator.open_position(metaapi_id, volume=0.3)
    sell = simulator.open_position(metaapi_id, kind="POSITION_TYPE_SELL", volume=0.1)

    accepted = api.call(
        "POST",
        f"{ACCOUNTS}/{account_id}/positions/{buy['id']}/close-by",
        user="alice",
        body={"closeByPositionId": sell["id"]},
    )
    final = _settle(api, executor_poller, account_id, accepted.body)

    assert final["status"] == "EXECUTED"
    assert [(p["id"], p["volume"]) for p in simulator.sim_positions(metaapi_id)] == [(buy["id"], 0.2)]


def test_close_by_on_a_netting_account_is_refused_clearly(api: Api, simulator: Simulator) -> None:
    metaapi_id = simulator.account(
        metadata={"userId": "alice"}, margin_mode="ACCOUNT_MARGIN_MODE_RETAIL_NETTING"
    )
    account_id = api.call("POST", ACCOUNTS, user="alice", body={"metaapiAccountId": metaapi_id}).body["id"]
    position = simulator.open_position(metaapi_id)

    refused = api.call(
        "POST",
        f"{ACCOUNTS}/{account_id}/positions/{position['id']}/close-by",
        user="alice",
        body={"closeByPositionId": "12345"},
    )

    assert refused.status == 422
    assert refused.body["code"] == "NETTING_ACCOUNT"
    assert refused.body["message"].startswith("close-by needs a hedging account")
    assert trades_log(simulator, metaapi_id) == []


def test_a_refused_order_is_never_queued_and_says_why(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked

    refused = _order(
        api, account_id, symbol="EURUSD", actionType="ORDER_TYPE_BUY", volume=0.1, stopLoss=1.08491
    )
    trades = api.call("GET", f"{ACCOUNTS}/{account_id}/trades", user="alice").body

    sentence = "stop loss 1.08491 is 9 points from the bid 1.08500; this broker needs at least 10"
    assert refused.status == 422
    assert refused.body == {
        "code": "STOP_LOSS_TOO_CLOSE",
        "message": sentence,
        "details": [{"field": "body.stopLoss", "message": sentence, "limit": "10", "value": "9"}],
    }
    assert trades["items"] == []
    assert executor_poller.poll_once() == 0
    assert trades_log(simulator, metaapi_id) == []


def test_a_market_orders_fill_and_slippage_in_pips_are_recorded(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    _, account_id = linked
    accepted = _order(api, account_id, symbol="EURUSD", actionType="ORDER_TYPE_BUY", volume=0.1)
    simulator.set_price("EURUSD", 1.08520, 1.08530)  # the price moves before the executor sends it

    final = _settle(api, executor_poller, account_id, accepted.body)

    assert accepted.body["requestedPrice"] == 1.0851
    assert (final["executedPrice"], final["slippagePips"]) == (1.0853, 2.0)


def test_a_symbol_turned_close_only_after_acceptance_is_not_sent(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    accepted = _order(api, account_id, symbol="EURUSD", actionType="ORDER_TYPE_SELL", volume=0.1)
    simulator.set_symbol("EURUSD", tradeMode="SYMBOL_TRADE_MODE_CLOSEONLY")
    new_container()  # the executor runs in its own container: it reads the specification afresh

    final = _settle(api, executor_poller, account_id, accepted.body)

    assert final["status"] == "REJECTED"
    assert final["reason"].startswith("not sent: CLOSE_ONLY: EURUSD is close-only")
    assert trades_log(simulator, metaapi_id) == []


def test_a_change_queued_behind_another_does_not_undo_it(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    position = simulator.open_position(metaapi_id)
    path = f"{ACCOUNTS}/{account_id}/positions/{position['id']}"

    first = api.call("PUT", path, user="alice", body={"stopLoss": 1.08})
    second = api.call("PUT", path, user="alice", body={"takeProfit": 1.09})
    finals = [_settle(api, executor_poller, account_id, answer.body) for answer in (first, second)]
    at_broker = simulator.sim_positions(metaapi_id)[0]

    assert [final["status"] for final in finals] == ["EXECUTED", "EXECUTED"]
    assert (at_broker["stopLoss"], at_broker["takeProfit"]) == (1.08, 1.09)


def test_an_expiration_time_without_a_time_zone_is_422(api: Api, linked: tuple[str, str]) -> None:
    _, account_id = linked

    answer = _order(
        api,
        account_id,
        symbol="EURUSD",
        actionType="ORDER_TYPE_BUY_LIMIT",
        volume=0.1,
        openPrice=1.08,
        expiration={"type": "ORDER_TIME_SPECIFIED", "time": "2030-01-01T10:00:00"},
    )

    assert answer.status == 422
    assert answer.body["details"][0]["field"] == "body.expiration.time"

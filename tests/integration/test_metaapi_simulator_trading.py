"""The MetaApi simulator as a broker: pending orders, stops and trailing stops that trigger, expirations,
and the symbol rules (trade mode, order types, expiration modes, stops and freeze levels, volumes) that
refuse trades with MetaApi's codes. Driven over HTTP through werkzeug's test client, on a clock the
tests move."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from infra.local.metaapi_sim import MetaApiSimulator
from tests.integration.conftest import PLATFORM_TOKEN, Simulator

TOKEN = "token-alice"
# 12:00 in broker time (UTC+2); the broker's Wednesday ends at 22:00 UTC.
WEDNESDAY = datetime(2024, 5, 15, 10, 0, tzinfo=UTC)
HISTORY = "2024-05-01T00:00:00Z/2024-06-01T00:00:00Z"
NETTING = "ACCOUNT_MARGIN_MODE_RETAIL_NETTING"


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.now = moment.timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, iso_time: str) -> None:
        self.now = datetime.fromisoformat(iso_time).timestamp()


@pytest.fixture
def clock() -> Clock:
    return Clock(WEDNESDAY)


@pytest.fixture
def sim(clock: Clock) -> MetaApiSimulator:
    return MetaApiSimulator(seed=7, time_source=clock)


@pytest.fixture
def http(sim: MetaApiSimulator) -> Client:
    return Client(sim)


@pytest.fixture
def account(sim: MetaApiSimulator, http: Client) -> str:
    """A hedging account, with EURUSD pinned at 1.08500 / 1.08510."""
    pin(http, "EURUSD", "1.08500", "1.08510")
    return sim.create_account(TOKEN)


@pytest.fixture
def netting(sim: MetaApiSimulator, account: str) -> str:
    return sim.create_account(TOKEN, margin_mode=NETTING)


def js(answer: TestResponse) -> Any:
    return json.loads(answer.get_data())


def at(account_id: str, suffix: str = "") -> str:
    return f"/users/current/accounts/{account_id}{suffix}"


def trade(http: Client, account_id: str, **body: Any) -> dict[str, Any]:
    answer = http.post(at(account_id, "/trade"), json=body, headers={"auth-token": TOKEN})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    result: dict[str, Any] = js(answer)
    return result


def code(http: Client, account_id: str, **body: Any) -> int:
    return int(trade(http, account_id, **body)["numericCode"])


def buy(http: Client, account_id: str, volume: float = 0.1, **extra: Any) -> dict[str, Any]:
    return trade(http, account_id, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=volume, **extra)


def sell(http: Client, account_id: str, volume: float = 0.1, **extra: Any) -> dict[str, Any]:
    return trade(http, account_id, actionType="ORDER_TYPE_SELL", symbol="EURUSD", volume=volume, **extra)


def place(
    http: Client, account_id: str, action: str, price: float, volume: float = 0.1, **extra: Any
) -> dict[str, Any]:
    return trade(
        http,
        account_id,
        actionType=f"ORDER_TYPE_{action}",
        symbol="EURUSD",
        volume=volume,
        openPrice=price,
        **extra,
    )


def pin(http: Client, symbol: str, bid: str, ask: str) -> None:
    answer = http.put(f"/_sim/prices/{symbol}", json={"bid": float(bid), "ask": float(ask)})
    assert answer.status_code == 200, answer.get_data(as_text=True)


def override(http: Client, symbol: str = "EURUSD", **fields: Any) -> TestResponse:
    return http.put(f"/_sim/symbols/{symbol}", json=fields)


def rules(http: Client, symbol: str = "EURUSD", **fields: Any) -> dict[str, Any]:
    answer = override(http, symbol, **fields)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    specification: dict[str, Any] = js(answer)
    return specification


def read(http: Client, account_id: str, suffix: str) -> Any:
    answer = http.get(at(account_id, suffix), headers={"auth-token": TOKEN})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return js(answer)


def positions(http: Client, account_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = read(http, account_id, "/positions")
    return found


def orders(http: Client, account_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = read(http, account_id, "/orders")
    return found


def history_order(http: Client, account_id: str, order_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        o for o in read(http, account_id, f"/history-orders/time/{HISTORY}") if o["id"] == order_id
    )
    return found


def deals(http: Client, account_id: str, position_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = read(http, account_id, f"/history-deals/position/{position_id}")
    return found


def balance(http: Client, account_id: str) -> float:
    return float(read(http, account_id, "/account-information")["balance"])


# Pending orders trigger


def test_buy_limit_fills_at_its_price_with_all_it_carried(http: Client, account: str, clock: Clock) -> None:
    placed = place(
        http,
        account,
        "BUY_LIMIT",
        1.08300,
        volume=0.2,
        stopLoss=1.08,
        takeProfit=1.09,
        clientId="RF_lim1",
        comment="dip",
        magic=42,
    )
    order_id = placed["orderId"]

    pin(http, "EURUSD", "1.08300", "1.08310")  # the ask is a point above the limit
    assert [o["id"] for o in orders(http, account)] == [order_id]
    clock.now += 60
    pin(http, "EURUSD", "1.08290", "1.08300")

    assert orders(http, account) == []
    [position] = positions(http, account)
    assert (position["id"], position["type"], position["openPrice"], position["volume"]) == (
        order_id,
        "POSITION_TYPE_BUY",
        1.083,
        0.2,
    )
    assert (position["stopLoss"], position["takeProfit"], position["magic"]) == (1.08, 1.09, 42)
    assert (position["clientId"], position["comment"], position["reason"]) == (
        "RF_lim1",
        "dip",
        "POSITION_REASON_EXPERT",
    )
    done = history_order(http, account, order_id)
    assert (done["type"], done["state"], done["positionId"], done["currentVolume"]) == (
        "ORDER_TYPE_BUY_LIMIT",
        "ORDER_STATE_FILLED",
        order_id,
        0,
    )
    assert (done["time"], done["doneTime"]) == ("2024-05-15T10:00:00.000Z", "2024-05-15T10:01:00.000Z")
    [deal] = deals(http, account, order_id)
    assert (deal["type"], deal["entryType"], deal["price"], deal["volume"], deal["reason"]) == (
        "DEAL_TYPE_BUY",
        "DEAL_ENTRY_IN",
        1.083,
        0.2,
        "DEAL_REASON_EXPERT",
    )
    assert (deal["orderId"], deal["clientId"], deal["magic"], deal["profit"]) == (order_id, "RF_lim1", 42, 0)


def test_sell_limit_fills_at_a_better_bid_after_a_gap(http: Client, account: str) -> None:
    order_id = place(http, account, "SELL_LIMIT", 1.08700)["orderId"]

    pin(http, "EURUSD", "1.08750", "1.08760")

    [position] = positions(http, account)
    assert (position["id"], position["type"], position["openPrice"]) == (
        order_id,
        "POSITION_TYPE_SELL",
        1.0875,
    )
    assert deals(http, account, order_id)[0]["type"] == "DEAL_TYPE_SELL"


def test_stop_orders_fill_at_the_market_price_they_reach(http: Client, account: str) -> None:
    buy_stop = place(http, account, "BUY_STOP", 1.08700)["orderId"]
    sell_stop = place(http, account, "SELL_STOP", 1.08300)["orderId"]

    pin(http, "EURUSD", "1.08680", "1.08690")
    assert len(orders(http, account)) == 2
    pin(http, "EURUSD", "1.08710", "1.08720")  # jumped past the stop: filled at the ask, a point worse
    pin(http, "EURUSD", "1.08300", "1.08310")

    opened = {p["id"]: (p["type"], p["openPrice"]) for p in positions(http, account)}
    assert opened == {buy_stop: ("POSITION_TYPE_BUY", 1.0872), sell_stop: ("POSITION_TYPE_SELL", 1.083)}
    assert orders(http, account) == []


def test_stop_limit_places_a_limit_order_which_then_fills(http: Client, account: str, clock: Clock) -> None:
    stop_limit = place(
        http, account, "BUY_STOP_LIMIT", 1.08700, stopLimitPrice=1.086, stopLoss=1.08, clientId="sl1", magic=7
    )["orderId"]

    clock.now += 30
    pin(http, "EURUSD", "1.08690", "1.08700")

    [limit] = orders(http, account)
    assert limit["id"] != stop_limit
    assert (limit["type"], limit["state"], limit["openPrice"], limit["stopLoss"]) == (
        "ORDER_TYPE_BUY_LIMIT",
        "ORDER_STATE_PLACED",
        1.086,
        1.08,
    )
    assert (limit["clientId"], limit["magic"], limit["time"]) == ("sl1", 7, "2024-05-15T10:00:30.000Z")
    assert "stopLimitPrice" not in limit
    activated = history_order(http, account, stop_limit)
    assert (activated["type"], activated["state"], activated["doneTime"]) == (
        "ORDER_TYPE_BUY_STOP_LIMIT",
        "ORDER_STATE_FILLED",
        "2024-05-15T10:00:30.000Z",
    )
    assert "positionId" not in activated
    assert positions(http, account) == []

    pin(http, "EURUSD", "1.08590", "1.08600")

    [position] = positions(http, account)
    assert (position["id"], position["openPrice"], position["clientId"], position["stopLoss"]) == (
        limit["id"],
        1.086,
        "sl1",
        1.08,
    )
    assert history_order(http, account, limit["id"])["state"] == "ORDER_STATE_FILLED"
    assert [d["orderId"] for d in deals(http, account, limit["id"])] == [limit["id"]]


def test_a_sell_stop_limit_places_a_sell_limit_above_its_stop(http: Client, account: str) -> None:
    place(http, account, "SELL_STOP_LIMIT", 1.08300, stopLimitPrice=1.084)

    pin(http, "EURUSD", "1.08450", "1.08460")  # through the limit price, not the stop: nothing
    assert [o["type"] for o in orders(http, account)] == ["ORDER_TYPE_SELL_STOP_LIMIT"]
    pin(http, "EURUSD", "1.08300", "1.08310")  # the stop: a sell limit at 1.08400 placed...
    [limit] = orders(http, account)
    assert (limit["type"], limit["openPrice"]) == ("ORDER_TYPE_SELL_LIMIT", 1.084)
    pin(http, "EURUSD", "1.08400", "1.08410")  # ...and reached

    assert [(p["id"], p["openPrice"]) for p in positions(http, account)] == [(limit["id"], 1.084)]


def test_a_touch_fills_even_when_the_price_is_back_before_anyone_asks(http: Client, account: str) -> None:
    order_id = place(http, account, "BUY_LIMIT", 1.08300)["orderId"]

    pin(http, "EURUSD", "1.08290", "1.08300")
    pin(http, "EURUSD", "1.08500", "1.08510")

    assert [p["id"] for p in positions(http, account)] == [order_id]


def test_nothing_triggers_while_the_session_is_closed(http: Client, account: str, clock: Clock) -> None:
    pin(http, "US30", "39000.0", "39002.0")
    order_id = trade(
        http, account, actionType="ORDER_TYPE_BUY_LIMIT", symbol="US30", volume=0.1, openPrice=38900
    )["orderId"]

    clock.set("2024-05-18T12:00:00+00:00")  # Saturday
    pin(http, "US30", "38890.0", "38892.0")
    assert [o["id"] for o in orders(http, account)] == [order_id]

    clock.set("2024-05-20T10:00:00+00:00")  # Monday
    assert [(p["id"], p["openPrice"]) for p in positions(http, account)] == [(order_id, 38892)]


def test_a_pending_order_without_margin_is_rejected_when_reached(sim: MetaApiSimulator, http: Client) -> None:
    pin(http, "EURUSD", "1.08500", "1.08510")
    poor = sim.create_account(TOKEN, balance=Decimal(100))  # 1 lot needs 1083 of margin
    order_id = place(http, poor, "BUY_LIMIT", 1.08300, volume=1)["orderId"]

    pin(http, "EURUSD", "1.08290", "1.08300")

    assert positions(http, poor) == []
    assert orders(http, poor) == []
    assert history_order(http, poor, order_id)["state"] == "ORDER_STATE_REJECTED"
    assert deals(http, poor, order_id) == []


def test_a_pending_order_nets_into_the_position_on_a_netting_account(http: Client, netting: str) -> None:
    first = buy(http, netting, volume=0.1)["positionId"]
    adding = place(http, netting, "BUY_LIMIT", 1.08300, volume=0.2)["orderId"]
    reducing = place(http, netting, "SELL_LIMIT", 1.08600, volume=0.1)["orderId"]

    pin(http, "EURUSD", "1.08290", "1.08300")

    [position] = positions(http, netting)
    assert (position["id"], position["type"], position["volume"]) == (first, "POSITION_TYPE_BUY", 0.3)
    assert position["openPrice"] == 1.0837  # (0.1 x 1.08510 + 0.2 x 1.08300) / 0.3
    assert history_order(http, netting, adding)["positionId"] == first

    pin(http, "EURUSD", "1.08600", "1.08610")

    [position] = positions(http, netting)
    assert (position["id"], position["volume"], position["realizedProfit"]) == (first, 0.2, 23.0)
    assert [(d["orderId"], d["entryType"], d["profit"]) for d in deals(http, netting, first)] == [
        (position["id"], "DEAL_ENTRY_IN", 0),
        (adding, "DEAL_ENTRY_IN", 0),
        (reducing, "DEAL_ENTRY_OUT", 23.0),
    ]


def test_close_by_needs_a_hedging_account(http: Client, netting: str) -> None:
    pin(http, "GBPUSD", "1.26500", "1.26512")
    long = buy(http, netting)["positionId"]
    short = trade(http, netting, actionType="ORDER_TYPE_SELL", symbol="GBPUSD", volume=0.1)["positionId"]

    refused = trade(http, netting, actionType="POSITION_CLOSE_BY", positionId=long, closeByPositionId=short)

    assert (refused["numericCode"], refused["stringCode"]) == (10013, "TRADE_RETCODE_INVALID")
    assert "hedging" in refused["message"]
    assert len(positions(http, netting)) == 2


# Stop loss and take profit


# Quotes as (bid, ask): one point short of the level, then at it. A buy watches the bid, a sell the ask.
@pytest.mark.parametrize(
    ("side", "stops", "short_of", "reaching", "price", "profit", "reason"),
    [
        ("BUY", {"stopLoss": 1.083}, ("1.08301", "1.08311"), ("1.08300", "1.08310"), 1.083, -21.0, "SL"),
        ("BUY", {"takeProfit": 1.087}, ("1.08699", "1.08709"), ("1.08700", "1.08710"), 1.087, 19.0, "TP"),
        ("SELL", {"stopLoss": 1.087}, ("1.08689", "1.08699"), ("1.08690", "1.08700"), 1.087, -20.0, "SL"),
        ("SELL", {"takeProfit": 1.083}, ("1.08291", "1.08301"), ("1.08290", "1.08300"), 1.083, 20.0, "TP"),
    ],
)
def test_stops_close_the_position_at_the_closing_price(
    http: Client,
    account: str,
    side: str,
    stops: dict[str, float],
    short_of: tuple[str, str],
    reaching: tuple[str, str],
    price: float,
    profit: float,
    reason: str,
) -> None:
    opened = trade(
        http, account, actionType=f"ORDER_TYPE_{side}", symbol="EURUSD", volume=0.1, clientId="RF_s1", **stops
    )
    position_id = opened["positionId"]
    pin(http, "EURUSD", *short_of)
    assert [p["id"] for p in positions(http, account)] == [position_id]

    pin(http, "EURUSD", *reaching)

    assert positions(http, account) == []
    out = deals(http, account, position_id)[-1]
    assert (out["entryType"], out["price"], out["volume"], out["profit"], out["reason"]) == (
        "DEAL_ENTRY_OUT",
        price,
        0.1,
        profit,
        f"DEAL_REASON_{reason}",
    )
    assert out["type"] == ("DEAL_TYPE_SELL" if side == "BUY" else "DEAL_TYPE_BUY")
    assert out["clientId"] == "RF_s1"
    closing = history_order(http, account, out["orderId"])
    assert (closing["state"], closing["reason"]) == ("ORDER_STATE_FILLED", f"ORDER_REASON_{reason}")
    assert balance(http, account) == 10000 + profit


# Trailing stop loss


@pytest.mark.parametrize(
    "distance",
    [
        {"distance": 0.002},
        {"distance": 0.002, "units": "RELATIVE_PRICE"},
        {"distance": 200, "units": "RELATIVE_POINTS"},
        {"distance": 20, "units": "RELATIVE_PIPS"},
    ],
)
def test_distance_trailing_follows_a_buy_and_never_loosens(
    http: Client, account: str, distance: dict[str, Any]
) -> None:
    position_id = buy(http, account, trailingStopLoss={"distance": distance})["positionId"]

    [position] = positions(http, account)
    assert position["stopLoss"] == 1.083  # bid 1.08500 - 0.00200
    assert position["trailingStopLoss"] == {
        "distance": {"distance": distance["distance"], "units": distance.get("units", "RELATIVE_PRICE")}
    }
    pin(http, "EURUSD", "1.08650", "1.08660")
    assert positions(http, account)[0]["stopLoss"] == 1.0845
    pin(http, "EURUSD", "1.08600", "1.08610")
    assert positions(http, account)[0]["stopLoss"] == 1.0845

    pin(http, "EURUSD", "1.08450", "1.08460")

    assert positions(http, account) == []
    out = deals(http, account, position_id)[-1]
    assert (out["price"], out["profit"], out["reason"]) == (1.0845, -6.0, "DEAL_REASON_SL")


def test_distance_trailing_follows_a_sell_down(http: Client, account: str) -> None:
    sell(
        http,
        account,
        stopLoss=1.09,
        trailingStopLoss={"distance": {"distance": 150, "units": "RELATIVE_POINTS"}},
    )

    assert positions(http, account)[0]["stopLoss"] == 1.0866  # tighter than 1.09: ask 1.08510 + 0.00150
    pin(http, "EURUSD", "1.08300", "1.08310")
    assert positions(http, account)[0]["stopLoss"] == 1.0846
    pin(http, "EURUSD", "1.08400", "1.08410")
    assert positions(http, account)[0]["stopLoss"] == 1.0846


def test_relative_thresholds_move_the_stop_to_break_even_then_lock_profit(http: Client, account: str) -> None:
    # Opened at 1.08510: at +10 pips the stop goes to the open price, at +20 pips 10 pips above it.
    buy(
        http,
        account,
        trailingStopLoss={
            "threshold": {
                "thresholds": [{"threshold": 10, "stopLoss": 0}, {"threshold": 20, "stopLoss": -10}],
                "units": "RELATIVE_PIPS",
            }
        },
    )
    assert "stopLoss" not in positions(http, account)[0]

    pin(http, "EURUSD", "1.08600", "1.08610")
    assert "stopLoss" not in positions(http, account)[0]
    pin(http, "EURUSD", "1.08610", "1.08620")
    assert positions(http, account)[0]["stopLoss"] == 1.0851
    pin(http, "EURUSD", "1.08710", "1.08720")
    assert positions(http, account)[0]["stopLoss"] == 1.0861
    pin(http, "EURUSD", "1.08650", "1.08660")

    [position] = positions(http, account)
    assert position["stopLoss"] == 1.0861
    assert position["trailingStopLoss"]["threshold"] == {
        "thresholds": [{"threshold": 10, "stopLoss": 0}, {"threshold": 20, "stopLoss": -10}],
        "units": "RELATIVE_PIPS",
        "stopPriceBase": "OPEN_PRICE",
    }


def test_absolute_thresholds_of_a_sell_count_downwards(http: Client, account: str) -> None:
    sell(
        http,
        account,
        trailingStopLoss={
            "threshold": {
                "thresholds": [
                    {"threshold": 1.083, "stopLoss": 1.0845},
                    {"threshold": 1.082, "stopLoss": 1.083},
                ]
            }
        },
    )

    pin(http, "EURUSD", "1.08300", "1.08310")
    assert "stopLoss" not in positions(http, account)[0]
    pin(http, "EURUSD", "1.08290", "1.08300")
    assert positions(http, account)[0]["stopLoss"] == 1.0845
    pin(http, "EURUSD", "1.08190", "1.08200")
    assert positions(http, account)[0]["stopLoss"] == 1.083


def test_a_current_price_base_trails_beyond_the_threshold(http: Client, account: str) -> None:
    buy(
        http,
        account,
        trailingStopLoss={
            "threshold": {
                "thresholds": [{"threshold": 50, "stopLoss": 30}],
                "units": "RELATIVE_POINTS",
                "stopPriceBase": "CURRENT_PRICE",
            }
        },
    )

    pin(http, "EURUSD", "1.08560", "1.08570")
    assert positions(http, account)[0]["stopLoss"] == 1.0853
    pin(http, "EURUSD", "1.08600", "1.08610")
    assert positions(http, account)[0]["stopLoss"] == 1.0857


def test_with_distance_and_threshold_the_stop_closest_to_the_price_wins(http: Client, account: str) -> None:
    buy(
        http,
        account,
        trailingStopLoss={
            "distance": {"distance": 30, "units": "RELATIVE_PIPS"},
            "threshold": {"thresholds": [{"threshold": 10, "stopLoss": 0}], "units": "RELATIVE_PIPS"},
        },
    )
    assert positions(http, account)[0]["stopLoss"] == 1.082

    pin(http, "EURUSD", "1.08610", "1.08620")

    assert positions(http, account)[0]["stopLoss"] == 1.0851  # not 1.08310 from the distance


def test_trailing_stays_out_of_the_stops_level(http: Client, account: str) -> None:
    # 5 points from the bid is inside EURUSD's 10-point stops level: the broker would refuse that stop.
    buy(http, account, trailingStopLoss={"distance": {"distance": 5, "units": "RELATIVE_POINTS"}})
    assert "stopLoss" not in positions(http, account)[0]

    rules(http, stopsLevel=5)

    assert positions(http, account)[0]["stopLoss"] == 1.08495


def test_a_pending_order_carries_its_trailing_stop_to_the_position(http: Client, account: str) -> None:
    trailing = {"distance": {"distance": 10, "units": "RELATIVE_PIPS"}}
    order_id = place(http, account, "BUY_LIMIT", 1.08300)["orderId"]
    assert (
        code(http, account, actionType="ORDER_MODIFY", orderId=order_id, trailingStopLoss=trailing) == 10009
    )
    assert orders(http, account)[0]["trailingStopLoss"] == {
        "distance": {"distance": 10, "units": "RELATIVE_PIPS"}
    }

    pin(http, "EURUSD", "1.08290", "1.08300")

    [position] = positions(http, account)
    assert (position["id"], position["stopLoss"]) == (order_id, 1.0819)
    assert position["trailingStopLoss"] == {"distance": {"distance": 10, "units": "RELATIVE_PIPS"}}


def test_position_modify_sets_and_removes_a_trailing_stop(http: Client, account: str) -> None:
    position_id = buy(http, account)["positionId"]
    trailing = {"distance": {"distance": 0.001}}

    assert code(
        http, account, actionType="POSITION_MODIFY", positionId=position_id, trailingStopLoss=trailing
    ) == (10009)
    assert positions(http, account)[0]["stopLoss"] == 1.084
    assert code(
        http, account, actionType="POSITION_MODIFY", positionId=position_id, trailingStopLoss=trailing
    ) == (10025)
    assert (
        code(http, account, actionType="POSITION_MODIFY", positionId=position_id, trailingStopLoss=None)
        == 10009
    )

    [position] = positions(http, account)
    assert "trailingStopLoss" not in position
    assert position["stopLoss"] == 1.084  # the stop it had set stays


@pytest.mark.parametrize(
    ("trailing", "message"),
    [
        ("20 pips", "trailingStopLoss must be an object"),
        ({}, "needs a distance or a threshold"),
        ({"distance": {"distance": 20}, "step": 5}, "unknown fields ['step']"),
        ({"distance": {"distance": 0}}, "distance.distance must be positive"),
        ({"distance": {"distance": -1, "units": "RELATIVE_PIPS"}}, "distance.distance must be positive"),
        ({"distance": {"distance": "20"}}, "distance.distance must be a number"),
        ({"distance": {"distance": 20, "units": "RELATIVE_CURRENCY"}}, "distance.units must be one of"),
        (
            {
                "threshold": {
                    "thresholds": [{"threshold": 10, "stopLoss": 0}],
                    "units": "RELATIVE_BALANCE_PERCENTAGE",
                }
            },
            "threshold.units must be one of",
        ),
        (
            {"threshold": {"thresholds": [{"threshold": 10, "stopLoss": 0}], "stopPriceBase": "STOP_PRICE"}},
            "threshold.stopPriceBase must be one of",
        ),
        ({"threshold": {"thresholds": []}}, "thresholds must be a non-empty array"),
        (
            {
                "threshold": {
                    "thresholds": [{"threshold": 20, "stopLoss": 0}, {"threshold": 10, "stopLoss": -5}],
                    "units": "RELATIVE_PIPS",
                }
            },
            "thresholds must be strictly ascending",
        ),
        (
            {
                "threshold": {
                    "thresholds": [
                        {"threshold": 1.09, "stopLoss": 1.084},
                        {"threshold": 1.09, "stopLoss": 1.085},
                    ]
                }
            },
            "thresholds must be strictly ascending",
        ),
        ({"threshold": {"thresholds": [{"threshold": 1.09}]}}, "thresholds[0].stopLoss must be a number"),
        (
            {"threshold": {"thresholds": [{"threshold": 1.09, "stopLoss": 0}]}},
            "thresholds[0].stopLoss must be positive",
        ),
    ],
)
def test_malformed_trailing_stops_are_invalid(
    http: Client, account: str, trailing: Any, message: str
) -> None:
    refused = buy(http, account, trailingStopLoss=trailing)

    assert (refused["numericCode"], refused["stringCode"]) == (10013, "TRADE_RETCODE_INVALID")
    assert message in refused["message"]
    assert positions(http, account) == []


def test_a_sell_needs_descending_absolute_thresholds(http: Client, account: str) -> None:
    ascending = {
        "thresholds": [{"threshold": 1.082, "stopLoss": 1.083}, {"threshold": 1.083, "stopLoss": 1.0845}]
    }

    refused = sell(http, account, trailingStopLoss={"threshold": ascending})

    assert refused["numericCode"] == 10013
    assert "strictly descending" in refused["message"]


def test_relative_stop_units_stay_refused(http: Client, account: str) -> None:
    refused = buy(http, account, stopLoss=20, stopLossUnits="RELATIVE_PIPS")
    assert refused["numericCode"] == 10013
    assert "ABSOLUTE_PRICE" in refused["message"]


# Expiration


def test_specified_expiration_expires_at_its_time(http: Client, account: str, clock: Clock) -> None:
    order_id = place(
        http,
        account,
        "BUY_LIMIT",
        1.08,
        expiration={"type": "ORDER_TIME_SPECIFIED", "time": "2024-05-15T11:00:00Z"},
    )["orderId"]

    clock.set("2024-05-15T10:59:59+00:00")
    assert [o["id"] for o in orders(http, account)] == [order_id]
    clock.set("2024-05-15T11:30:00+00:00")

    assert orders(http, account) == []
    expired = history_order(http, account, order_id)
    assert (expired["state"], expired["doneTime"], expired["currentVolume"]) == (
        "ORDER_STATE_EXPIRED",
        "2024-05-15T11:00:00.000Z",
        0.1,
    )


def test_day_expiration_ends_with_the_broker_day(http: Client, account: str, clock: Clock) -> None:
    order_id = place(http, account, "SELL_LIMIT", 1.09, expiration={"type": "ORDER_TIME_DAY"})["orderId"]

    clock.set("2024-05-15T21:59:59+00:00")  # 23:59:59 at the broker
    assert [o["id"] for o in orders(http, account)] == [order_id]
    clock.set("2024-05-15T22:00:00+00:00")

    assert orders(http, account) == []
    expired = history_order(http, account, order_id)
    assert (expired["state"], expired["doneTime"]) == ("ORDER_STATE_EXPIRED", "2024-05-15T22:00:00.000Z")


@pytest.mark.parametrize("time", ["2024-05-16T08:00:00Z", "2024-05-16T21:59:00Z"])
def test_specified_day_expiration_ends_with_that_broker_day(
    http: Client, account: str, clock: Clock, time: str
) -> None:
    order_id = place(
        http, account, "BUY_STOP", 1.09, expiration={"type": "ORDER_TIME_SPECIFIED_DAY", "time": time}
    )["orderId"]

    clock.set("2024-05-16T21:59:59+00:00")
    assert [o["id"] for o in orders(http, account)] == [order_id]
    clock.set("2024-05-16T22:00:01+00:00")

    assert orders(http, account) == []
    expired = history_order(http, account, order_id)
    assert (expired["state"], expired["doneTime"], expired["expirationTime"]) == (
        "ORDER_STATE_EXPIRED",
        "2024-05-16T22:00:00.000Z",
        time.replace("Z", ".000Z"),
    )


def test_specified_day_accepts_a_time_earlier_today_but_not_yesterday(http: Client, account: str) -> None:
    def placed(time: str) -> int:
        return int(
            place(
                http,
                account,
                "BUY_LIMIT",
                1.08,
                expiration={"type": "ORDER_TIME_SPECIFIED_DAY", "time": time},
            )["numericCode"]
        )

    assert placed("2024-05-15T09:00:00Z") == 10008
    assert placed("2024-05-14T21:59:00Z") == 10022
    refused = place(
        http,
        account,
        "BUY_LIMIT",
        1.08,
        expiration={"type": "ORDER_TIME_SPECIFIED", "time": "2024-05-15T09:00:00Z"},
    )
    assert refused["numericCode"] == 10022


def test_an_expired_order_no_longer_fills(http: Client, account: str, clock: Clock) -> None:
    order_id = place(
        http,
        account,
        "BUY_LIMIT",
        1.083,
        expiration={"type": "ORDER_TIME_SPECIFIED", "time": "2024-05-15T11:00:00Z"},
    )["orderId"]

    clock.set("2024-05-15T12:00:00+00:00")
    pin(http, "EURUSD", "1.08290", "1.08300")

    assert positions(http, account) == []
    assert history_order(http, account, order_id)["state"] == "ORDER_STATE_EXPIRED"


# Broker rules: trade mode


def test_a_disabled_symbol_refuses_everything(http: Client, account: str) -> None:
    position_id = buy(http, account, stopLoss=1.08)["positionId"]
    order_id = place(http, account, "BUY_LIMIT", 1.08)["orderId"]
    assert rules(http, tradeMode="SYMBOL_TRADE_MODE_DISABLED")["tradeMode"] == "SYMBOL_TRADE_MODE_DISABLED"

    for body in (
        {"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.1},
        {"actionType": "ORDER_TYPE_SELL_STOP", "symbol": "EURUSD", "volume": 0.1, "openPrice": 1.08},
        {"actionType": "POSITION_MODIFY", "positionId": position_id, "stopLoss": 1.081},
        {"actionType": "POSITION_PARTIAL", "positionId": position_id, "volume": 0.05},
        {"actionType": "POSITION_CLOSE_ID", "positionId": position_id},
        {"actionType": "POSITIONS_CLOSE_SYMBOL", "symbol": "EURUSD"},
        {"actionType": "ORDER_MODIFY", "orderId": order_id, "openPrice": 1.079},
        {"actionType": "ORDER_CANCEL", "orderId": order_id},
    ):
        refused = trade(http, account, **body)
        assert (refused["numericCode"], refused["stringCode"]) == (10017, "TRADE_RETCODE_TRADE_DISABLED"), (
            body
        )
    assert len(positions(http, account)) == len(orders(http, account)) == 1


@pytest.mark.parametrize(
    ("mode", "refused", "allowed", "refusal"),
    [
        ("SYMBOL_TRADE_MODE_LONGONLY", "SELL", "BUY", (10042, "TRADE_RETCODE_LONG_ONLY")),
        ("SYMBOL_TRADE_MODE_SHORTONLY", "BUY", "SELL", (10043, "TRADE_RETCODE_SHORT_ONLY")),
    ],
)
def test_long_or_short_only_refuses_the_other_side(
    http: Client, account: str, mode: str, refused: str, allowed: str, refusal: tuple[int, str]
) -> None:
    existing = trade(http, account, actionType=f"ORDER_TYPE_{refused}", symbol="EURUSD", volume=0.1)[
        "positionId"
    ]
    rules(http, tradeMode=mode)
    pending = {"BUY": ("BUY_STOP", 1.087), "SELL": ("SELL_STOP", 1.083)}

    for action, price in (pending[refused], (f"{refused}_LIMIT", 1.09 if refused == "SELL" else 1.08)):
        answer = place(http, account, action, price)
        assert (answer["numericCode"], answer["stringCode"]) == refusal, action
    answer = trade(http, account, actionType=f"ORDER_TYPE_{refused}", symbol="EURUSD", volume=0.1)
    assert (answer["numericCode"], answer["stringCode"]) == refusal

    assert code(http, account, actionType=f"ORDER_TYPE_{allowed}", symbol="EURUSD", volume=0.1) == 10009
    assert place(http, account, *pending[allowed])["numericCode"] == 10008
    assert code(http, account, actionType="POSITION_CLOSE_ID", positionId=existing) == 10009


def test_close_only_refuses_opening_and_lets_everything_else_through(http: Client, account: str) -> None:
    position_id = buy(http, account, volume=0.3)["positionId"]
    order_id = place(http, account, "BUY_LIMIT", 1.08)["orderId"]
    rules(http, tradeMode="SYMBOL_TRADE_MODE_CLOSEONLY")

    for body in (
        {"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.1},
        {"actionType": "ORDER_TYPE_SELL", "symbol": "EURUSD", "volume": 0.1},
        {"actionType": "ORDER_TYPE_SELL_LIMIT", "symbol": "EURUSD", "volume": 0.1, "openPrice": 1.09},
        {
            "actionType": "ORDER_TYPE_BUY_STOP_LIMIT",
            "symbol": "EURUSD",
            "volume": 0.1,
            "openPrice": 1.09,
            "stopLimitPrice": 1.089,
        },
    ):
        refused = trade(http, account, **body)
        assert (refused["numericCode"], refused["stringCode"]) == (10044, "TRADE_RETCODE_CLOSE_ONLY"), body

    assert code(http, account, actionType="POSITION_MODIFY", positionId=position_id, stopLoss=1.08) == 10009
    assert code(http, account, actionType="POSITION_PARTIAL", positionId=position_id, volume=0.1) == 10009
    assert code(http, account, actionType="ORDER_MODIFY", orderId=order_id, openPrice=1.079) == 10009
    assert code(http, account, actionType="ORDER_CANCEL", orderId=order_id) == 10009
    assert code(http, account, actionType="POSITION_CLOSE_ID", positionId=position_id) == 10009
    assert positions(http, account) == orders(http, account) == []


# Broker rules: order types and expiration modes

EVERY_ORDER_TYPE = [
    "SYMBOL_ORDER_MARKET",
    "SYMBOL_ORDER_LIMIT",
    "SYMBOL_ORDER_STOP",
    "SYMBOL_ORDER_STOP_LIMIT",
    "SYMBOL_ORDER_SL",
    "SYMBOL_ORDER_TP",
    "SYMBOL_ORDER_CLOSEBY",
]
REQUESTS = {
    "SYMBOL_ORDER_MARKET": {"actionType": "ORDER_TYPE_SELL", "symbol": "EURUSD", "volume": 0.1},
    "SYMBOL_ORDER_LIMIT": {
        "actionType": "ORDER_TYPE_BUY_LIMIT",
        "symbol": "EURUSD",
        "volume": 0.1,
        "openPrice": 1.08,
    },
    "SYMBOL_ORDER_STOP": {
        "actionType": "ORDER_TYPE_SELL_STOP",
        "symbol": "EURUSD",
        "volume": 0.1,
        "openPrice": 1.08,
    },
    "SYMBOL_ORDER_STOP_LIMIT": {
        "actionType": "ORDER_TYPE_BUY_STOP_LIMIT",
        "symbol": "EURUSD",
        "volume": 0.1,
        "openPrice": 1.09,
        "stopLimitPrice": 1.089,
    },
    "SYMBOL_ORDER_SL": {"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.1, "stopLoss": 1.08},
    "SYMBOL_ORDER_TP": {
        "actionType": "ORDER_TYPE_BUY",
        "symbol": "EURUSD",
        "volume": 0.1,
        "takeProfit": 1.09,
    },
}


@pytest.mark.parametrize("missing", list(REQUESTS))
def test_each_order_type_needs_the_symbol_to_allow_it(http: Client, account: str, missing: str) -> None:
    allowed = [t for t in EVERY_ORDER_TYPE if t != missing]
    assert rules(http, allowedOrderTypes=allowed)["allowedOrderTypes"] == allowed

    refused = trade(http, account, **REQUESTS[missing])

    assert (refused["numericCode"], refused["stringCode"]) == (10035, "TRADE_RETCODE_INVALID_ORDER")
    assert missing in refused["message"]
    for other, body in REQUESTS.items():
        # The stop loss and take profit requests ride on market orders.
        needs = {other, "SYMBOL_ORDER_MARKET"} if other in ("SYMBOL_ORDER_SL", "SYMBOL_ORDER_TP") else {other}
        if missing not in needs:
            assert code(http, account, **body) in (10008, 10009), other


def test_stops_set_later_need_the_symbol_to_allow_them(http: Client, account: str) -> None:
    position_id = buy(http, account, takeProfit=1.09)["positionId"]
    order_id = place(http, account, "BUY_LIMIT", 1.08)["orderId"]
    rules(http, allowedOrderTypes=[t for t in EVERY_ORDER_TYPE if t != "SYMBOL_ORDER_SL"])

    def modify(**body: Any) -> int:
        return code(http, account, actionType="POSITION_MODIFY", positionId=position_id, **body)

    assert modify(stopLoss=1.08) == 10035
    assert modify(trailingStopLoss={"distance": {"distance": 0.001}}) == 10035
    assert code(http, account, actionType="ORDER_MODIFY", orderId=order_id, stopLoss=1.07) == 10035
    assert modify(takeProfit=1.091) == 10009  # keeping no stop loss needs nothing


def test_close_by_needs_the_symbol_to_allow_it(http: Client, account: str) -> None:
    long = buy(http, account)["positionId"]
    short = sell(http, account)["positionId"]
    rules(http, allowedOrderTypes=[t for t in EVERY_ORDER_TYPE if t != "SYMBOL_ORDER_CLOSEBY"])

    assert (
        code(http, account, actionType="POSITION_CLOSE_BY", positionId=long, closeByPositionId=short) == 10035
    )

    rules(http, allowedOrderTypes=EVERY_ORDER_TYPE)
    assert (
        code(http, account, actionType="POSITION_CLOSE_BY", positionId=long, closeByPositionId=short) == 10009
    )


def test_expiration_types_need_their_mode(http: Client, account: str) -> None:
    specified = {"type": "ORDER_TIME_SPECIFIED", "time": "2024-05-16T10:00:00Z"}
    rules(http, allowedExpirationModes=["SYMBOL_EXPIRATION_GTC", "SYMBOL_EXPIRATION_SPECIFIED"])

    def placed(**extra: Any) -> int:
        return int(place(http, account, "BUY_LIMIT", 1.08, **extra)["numericCode"])

    assert placed(expiration={"type": "ORDER_TIME_DAY"}) == 10022
    assert placed(expiration={"type": "ORDER_TIME_SPECIFIED_DAY", "time": "2024-05-16T10:00:00Z"}) == 10022
    assert placed() == 10008
    order_id = orders(http, account)[0]["id"]
    assert placed(expiration=specified) == 10008
    assert code(
        http, account, actionType="ORDER_MODIFY", orderId=order_id, expiration={"type": "ORDER_TIME_DAY"}
    ) == (10022)

    rules(http, allowedExpirationModes=["SYMBOL_EXPIRATION_SPECIFIED"])
    assert placed() == 10022  # an order without expiration is GTC
    assert placed(expiration=specified) == 10008


# Broker rules: stops and freeze levels, volumes


def test_stops_level_edges_on_market_orders(http: Client, account: str) -> None:
    # EURUSD: stopsLevel 10 points, bid 1.08500, ask 1.08510. A buy's stops are measured from the bid.
    assert buy(http, account, stopLoss=1.0849)["numericCode"] == 10009
    assert buy(http, account, stopLoss=1.08491)["numericCode"] == 10016
    assert buy(http, account, takeProfit=1.0851)["numericCode"] == 10009
    assert buy(http, account, takeProfit=1.08509)["numericCode"] == 10016
    assert sell(http, account, stopLoss=1.0852)["numericCode"] == 10009
    assert sell(http, account, stopLoss=1.08519)["numericCode"] == 10016
    assert sell(http, account, takeProfit=1.085)["numericCode"] == 10009
    assert sell(http, account, takeProfit=1.08501)["numericCode"] == 10016


def test_stops_level_edges_on_pending_prices(http: Client, account: str) -> None:
    assert place(http, account, "BUY_LIMIT", 1.085)["numericCode"] == 10008  # 10 points below the ask
    assert place(http, account, "BUY_LIMIT", 1.08501)["numericCode"] == 10015
    assert place(http, account, "SELL_STOP", 1.0849)["numericCode"] == 10008  # 10 points below the bid
    assert place(http, account, "SELL_STOP", 1.08491)["numericCode"] == 10015
    assert place(http, account, "BUY_STOP", 1.0852)["numericCode"] == 10008
    assert place(http, account, "BUY_STOP", 1.08519)["numericCode"] == 10015
    assert place(http, account, "SELL_LIMIT", 1.0851)["numericCode"] == 10008
    assert place(http, account, "SELL_LIMIT", 1.08509)["numericCode"] == 10015


def test_an_overridden_stops_level_applies_to_modifications(http: Client, account: str) -> None:
    position_id = buy(http, account)["positionId"]
    assert rules(http, stopsLevel=50)["stopsLevel"] == 50

    def modify(stop_loss: float) -> int:
        return code(http, account, actionType="POSITION_MODIFY", positionId=position_id, stopLoss=stop_loss)

    assert modify(1.08451) == 10016  # 49 points under the bid
    assert modify(1.0845) == 10009
    assert buy(http, account, takeProfit=1.08549)["numericCode"] == 10016
    assert buy(http, account, takeProfit=1.0855)["numericCode"] == 10009


def test_freeze_level_on_pending_orders(http: Client, account: str) -> None:
    order_id = place(http, account, "BUY_LIMIT", 1.083)["orderId"]
    assert rules(http, freezeLevel=20)["freezeLevel"] == 20

    pin(http, "EURUSD", "1.08310", "1.08320")  # the ask is exactly 20 points above the limit
    assert trade(http, account, actionType="ORDER_MODIFY", orderId=order_id, openPrice=1.082) == {
        "numericCode": 10029,
        "stringCode": "TRADE_RETCODE_FROZEN",
        "message": f"Order {order_id} at 1.083 is frozen: within 20 points of bid 1.0831 and ask 1.0832",
    }
    assert code(http, account, actionType="ORDER_CANCEL", orderId=order_id) == 10029

    pin(http, "EURUSD", "1.08311", "1.08321")
    assert code(http, account, actionType="ORDER_MODIFY", orderId=order_id, openPrice=1.082) == 10009
    pin(http, "EURUSD", "1.08210", "1.08220")
    assert code(http, account, actionType="ORDER_CANCEL", orderId=order_id) == 10029
    pin(http, "EURUSD", "1.08211", "1.08221")
    assert code(http, account, actionType="ORDER_CANCEL", orderId=order_id) == 10009


def test_freeze_level_on_position_stops(http: Client, account: str) -> None:
    long = buy(http, account, stopLoss=1.083)["positionId"]
    short = sell(http, account, takeProfit=1.083)["positionId"]
    rules(http, freezeLevel=20)

    pin(http, "EURUSD", "1.08320", "1.08330")  # the long's stop loss 20 points under the bid
    refused = trade(http, account, actionType="POSITION_MODIFY", positionId=long, takeProfit=1.09)
    assert (refused["numericCode"], refused["stringCode"]) == (10029, "TRADE_RETCODE_FROZEN")
    assert "stop loss 1.083" in refused["message"]
    assert code(http, account, actionType="POSITION_MODIFY", positionId=short, stopLoss=1.09) == 10009
    pin(http, "EURUSD", "1.08321", "1.08331")
    assert code(http, account, actionType="POSITION_MODIFY", positionId=long, takeProfit=1.09) == 10009

    pin(http, "EURUSD", "1.08310", "1.08320")  # the short's take profit 20 points under the ask
    assert code(http, account, actionType="POSITION_MODIFY", positionId=short, stopLoss=1.089) == 10029
    assert code(http, account, actionType="POSITION_CLOSE_ID", positionId=short) == 10009


def test_overridden_volume_rules(http: Client, account: str) -> None:
    specification = rules(http, minVolume=0.1, maxVolume=1, volumeStep=0.05)
    assert (specification["minVolume"], specification["maxVolume"], specification["volumeStep"]) == (
        0.1,
        1,
        0.05,
    )

    assert [buy(http, account, volume=v)["numericCode"] for v in (0.05, 0.1, 0.15, 0.12, 1, 1.05)] == [
        10014,
        10009,
        10009,
        10014,
        10009,
        10014,
    ]
    assert place(http, account, "BUY_LIMIT", 1.08, volume=0.12)["numericCode"] == 10014
    assert place(http, account, "BUY_LIMIT", 1.08, volume=0.15)["numericCode"] == 10008


def test_market_closed_refuses_market_orders_but_takes_pending_ones(
    sim: MetaApiSimulator, http: Client, clock: Clock
) -> None:
    pin(http, "EURUSD", "1.08500", "1.08510")
    poor = sim.create_account(TOKEN, balance=Decimal(100))
    assert buy(http, poor, volume=1)["numericCode"] == 10019
    assert place(http, poor, "BUY_LIMIT", 1.08, volume=1)["numericCode"] == 10008

    clock.set("2024-05-18T12:00:00+00:00")
    assert buy(http, poor, volume=0.01)["numericCode"] == 10018
    assert place(http, poor, "BUY_LIMIT", 1.08)["numericCode"] == 10008


# Admin: per-symbol overrides


def test_override_answers_the_specification_and_delete_restores_it(http: Client, account: str) -> None:
    default = read(http, account, "/symbols/XAUUSD/specification")
    changed = rules(http, "XAUUSD", tradeMode="SYMBOL_TRADE_MODE_LONGONLY", freezeLevel=5)
    again = rules(http, "XAUUSD", stopsLevel=40)

    assert changed == {**default, "tradeMode": "SYMBOL_TRADE_MODE_LONGONLY", "freezeLevel": 5}
    assert again == {**changed, "stopsLevel": 40}  # overrides add up
    assert read(http, account, "/symbols/XAUUSD/specification") == again
    assert read(http, account, "/symbols/EURUSD/specification")["tradeMode"] == "SYMBOL_TRADE_MODE_FULL"

    assert http.delete("/_sim/symbols/XAUUSD").status_code == 204
    assert read(http, account, "/symbols/XAUUSD/specification") == default


@pytest.mark.parametrize(
    ("fields", "parameter"),
    [
        ({"tradeMode": "SYMBOL_TRADE_MODE_SOMETIMES"}, "tradeMode"),
        ({"allowedOrderTypes": "SYMBOL_ORDER_MARKET"}, "allowedOrderTypes"),
        ({"allowedOrderTypes": ["SYMBOL_ORDER_MARKET", "SYMBOL_ORDER_MARKET"]}, "allowedOrderTypes"),
        ({"allowedOrderTypes": ["ORDER_TYPE_BUY"]}, "allowedOrderTypes"),
        ({"allowedExpirationModes": ["ORDER_TIME_GTC"]}, "allowedExpirationModes"),
        ({"stopsLevel": -1}, "stopsLevel"),
        ({"freezeLevel": 2.5}, "freezeLevel"),
        ({"minVolume": 0}, "minVolume"),
        ({"maxVolume": "10"}, "maxVolume"),
        ({"volumeStep": -0.01}, "volumeStep"),
        ({"minVolume": 200}, "minVolume"),  # above maxVolume 100
        ({"digits": 3}, "digits"),
    ],
)
def test_override_validation(http: Client, account: str, fields: dict[str, Any], parameter: str) -> None:
    before = read(http, account, "/symbols/EURUSD/specification")

    answer = override(http, "EURUSD", **fields)

    assert answer.status_code == 400
    body = js(answer)
    assert (body["error"], body["details"][0]["parameter"]) == ("ValidationError", parameter)
    assert read(http, account, "/symbols/EURUSD/specification") == before


def test_unknown_symbols_are_not_found(http: Client) -> None:
    for answer in (override(http, "EURUSDX", stopsLevel=1), http.delete("/_sim/symbols/EURUSDX")):
        assert answer.status_code == 404
        assert js(answer)["error"] == "NotFoundError"
    assert http.put("/_sim/symbols/EURUSD", data="[]").status_code == 400


def test_overrides_belong_to_one_simulator(http: Client, account: str) -> None:
    rules(http, tradeMode="SYMBOL_TRADE_MODE_DISABLED")
    other = MetaApiSimulator(seed=7, time_source=Clock(WEDNESDAY))
    other_account = other.create_account(TOKEN)

    assert read(Client(other), other_account, "/symbols/EURUSD/specification")["tradeMode"] == (
        "SYMBOL_TRADE_MODE_FULL"
    )
    assert buy(Client(other), other_account)["numericCode"] == 10009
    assert buy(http, account)["numericCode"] == 10017


def test_the_simulator_helpers_set_and_reset_symbols(simulator: Simulator) -> None:
    account_id = simulator.account()
    trade_url = f"{simulator.url}/users/current/accounts/{account_id}/trade"

    def buy_code() -> int:
        answer = simulator.session.post(
            trade_url,
            json={"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.1},
            headers={"auth-token": PLATFORM_TOKEN},
            timeout=5,
        )
        return int(answer.json()["numericCode"])

    assert simulator.set_symbol("EURUSD", tradeMode="SYMBOL_TRADE_MODE_SHORTONLY")["tradeMode"] == (
        "SYMBOL_TRADE_MODE_SHORTONLY"
    )
    assert buy_code() == 10043
    simulator.reset_symbol("EURUSD")
    assert buy_code() == 10009

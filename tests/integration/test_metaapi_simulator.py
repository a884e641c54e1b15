"""The MetaApi REST simulator, driven through werkzeug's test client (no sockets)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from werkzeug.test import Client, TestResponse

from infra.local.metaapi_sim import MetaApiSimulator
from tests.integration.simulator_http import ACCOUNTS, OTHER, TOKEN, at, get, js, post

WEDNESDAY = datetime(2024, 5, 15, 10, 0, tzinfo=UTC)
SATURDAY = datetime(2024, 5, 18, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.now = moment.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(WEDNESDAY)


@pytest.fixture
def sim(clock: Clock) -> MetaApiSimulator:
    """Provisioning at once: its timings have tests of their own (test_metaapi_simulator_provisioning)."""
    return MetaApiSimulator(
        seed=7, time_source=clock, creation_seconds=0, deploy_seconds=0, undeploy_seconds=0
    )


@pytest.fixture
def http(sim: MetaApiSimulator) -> Client:
    return Client(sim)


@pytest.fixture
def account(sim: MetaApiSimulator) -> str:
    return sim.create_account(TOKEN)


def trade(http: Client, account_id: str, **body: Any) -> dict[str, Any]:
    answer = post(http, at(account_id, "/trade"), body)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    result: dict[str, Any] = js(answer)
    return result


def pin(http: Client, symbol: str, bid: str, ask: str) -> None:
    answer = http.put(f"/_sim/prices/{symbol}", json={"bid": float(bid), "ask": float(ask)})
    assert answer.status_code == 200, answer.get_data(as_text=True)


def arm(http: Client, account_id: str, **fault: Any) -> TestResponse:
    return http.post(f"/_sim/accounts/{account_id}/faults", json=fault)


def read(http: Client, account_id: str, suffix: str) -> Any:
    answer = get(http, at(account_id, suffix))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return js(answer)


def buy(http: Client, account_id: str, volume: float = 0.1, **extra: Any) -> dict[str, Any]:
    result = trade(http, account_id, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=volume, **extra)
    assert result["stringCode"] == "TRADE_RETCODE_DONE", result
    return result


def day_range() -> str:
    start, end = "2024-05-15T00:00:00.000Z", "2024-05-16T00:00:00.000Z"
    return f"{quote(start, safe='')}/{quote(end, safe='')}"


@pytest.fixture
def eurusd(http: Client) -> None:
    pin(http, "EURUSD", "1.08500", "1.08510")


# Auth and scoping


def test_missing_or_empty_token_is_unauthorized(http: Client, account: str) -> None:
    for token in (None, ""):
        answer = get(http, at(account, "/positions"), token=token)
        assert answer.status_code == 401
        assert js(answer)["error"] == "UnauthorizedError"
    assert get(http, ACCOUNTS, token=None).status_code == 401


def test_another_token_sees_nothing_of_the_account(http: Client, account: str) -> None:
    assert get(http, at(account), token=OTHER).status_code == 404
    assert js(get(http, at(account, "/positions"), token=OTHER))["error"] == "NotFoundError"
    refused = post(http, at(account, "/trade"), {"actionType": "ORDER_TYPE_BUY"}, token=OTHER)
    assert refused.status_code == 404
    assert js(get(http, ACCOUNTS, token=OTHER)) == []
    assert [a["_id"] for a in js(get(http, ACCOUNTS))] == [account]


def test_unknown_path_is_a_json_404(http: Client) -> None:
    answer = get(http, "/users/current/nothing")
    assert answer.status_code == 404
    assert js(answer)["error"] == "NotFoundError"
    assert answer.content_type == "application/json"


# Provisioning

NEW_ACCOUNT = {
    "name": "Alice live",
    "server": "ICMarketsSC-Demo",
    "login": "123456",
    "password": "secret",
    "platform": "mt5",
    "magic": 1000,
    "metadata": {"userId": "alice"},
    "tags": ["vip"],
}


def test_create_answers_202_then_201_and_never_a_second_account(http: Client) -> None:
    first = post(http, ACCOUNTS, NEW_ACCOUNT, transaction_id="a" * 32)
    assert first.status_code == 202
    assert first.headers["Retry-After"] == "1"
    assert js(first) == {
        "message": "Automatic broker settings detection is in progress, please retry in 1 seconds"
    }
    assert js(get(http, ACCOUNTS)) == []

    second = post(http, ACCOUNTS, NEW_ACCOUNT, transaction_id="a" * 32)
    third = post(http, ACCOUNTS, NEW_ACCOUNT, transaction_id="a" * 32)

    assert second.status_code == third.status_code == 201
    assert js(second)["state"] == "DEPLOYED"
    assert js(third)["id"] == js(second)["id"]
    listed = js(get(http, ACCOUNTS))
    assert [a["_id"] for a in listed] == [js(second)["id"]]
    created = listed[0]
    assert (created["name"], created["login"], created["magic"], created["region"]) == (
        "Alice live",
        "123456",
        1000,
        "london",
    )
    assert (created["type"], created["version"], created["reliability"]) == ("cloud-g2", 5, "regular")
    assert created["metadata"] == {"userId": "alice"}
    assert "password" not in created
    assert "secret" not in get(http, at(created["_id"])).get_data(as_text=True)


def test_create_needs_a_transaction_id_and_a_valid_body(http: Client) -> None:
    missing = post(http, ACCOUNTS, NEW_ACCOUNT)
    assert missing.status_code == 400
    assert js(missing)["error"] == "ValidationError"

    bad = post(http, ACCOUNTS, {**NEW_ACCOUNT, "platform": "mt6"}, transaction_id="b" * 32)
    assert bad.status_code == 400
    assert js(bad)["details"][0]["parameter"] == "platform"


def test_wrong_password_fails_with_e_auth_when_creation_completes(http: Client) -> None:
    body = {**NEW_ACCOUNT, "password": "wrong"}
    assert post(http, ACCOUNTS, body, transaction_id="c" * 32).status_code == 202

    answer = post(http, ACCOUNTS, body, transaction_id="c" * 32)

    assert answer.status_code == 400
    assert js(answer)["error"] == "ValidationError"
    assert js(answer)["details"] == "E_AUTH"
    assert js(get(http, ACCOUNTS)) == []


def test_transaction_ids_are_scoped_to_the_token(http: Client) -> None:
    post(http, ACCOUNTS, NEW_ACCOUNT, transaction_id="d" * 32)
    assert post(http, ACCOUNTS, NEW_ACCOUNT, transaction_id="d" * 32, token=OTHER).status_code == 202


def test_list_versions_and_filters(http: Client, sim: MetaApiSimulator) -> None:
    london = sim.create_account(TOKEN, name="Alpha", login="111")
    york = sim.create_account(TOKEN, name="Beta", login="222", region="new-york", server="Other-Live")
    singapore = sim.create_account(TOKEN, name="Gamma", login="333", region="singapore")
    assert post(http, at(york, "/undeploy")).status_code == 204

    version_1 = js(get(http, ACCOUNTS, api_version="1"))
    version_2 = js(get(http, ACCOUNTS, api_version="2"))

    assert [a["_id"] for a in version_1] == [london, york, singapore]
    assert version_2["count"] == 3
    assert version_2["items"] == version_1

    def ids(query: str) -> list[str]:
        return [a["_id"] for a in js(get(http, f"{ACCOUNTS}?{query}"))]

    assert ids("query=other-live") == [york]
    assert ids("query=333") == [singapore]
    assert ids("state=UNDEPLOYED") == [york]
    assert ids("connectionStatus=CONNECTED") == [london, singapore]
    assert ids("region=london&region=singapore") == [london, singapore]
    assert ids("offset=1&limit=1") == [york]
    assert js(get(http, f"{ACCOUNTS}?offset=1&limit=1", api_version="2"))["count"] == 3
    assert get(http, f"{ACCOUNTS}?limit=0").status_code == 400
    assert get(http, f"{ACCOUNTS}?state=SLEEPING").status_code == 400


def test_update_then_delete(http: Client, account: str) -> None:
    changed = http.put(
        at(account),
        json={"name": "Renamed", "metadata": {"k": "v"}, "tags": ["a"], "magic": 7, "slippage": 3},
        headers={"auth-token": TOKEN},
    )
    assert changed.status_code == 204
    shown = js(get(http, at(account)))
    assert (shown["name"], shown["metadata"], shown["tags"], shown["magic"], shown["slippage"]) == (
        "Renamed",
        {"k": "v"},
        ["a"],
        7,
        3,
    )

    refused = http.put(at(account), json={"name": "X", "magic": -1}, headers={"auth-token": TOKEN})
    assert refused.status_code == 400
    assert js(get(http, at(account)))["name"] == "Renamed"

    assert http.delete(at(account), headers={"auth-token": TOKEN}).status_code == 204
    assert get(http, at(account)).status_code == 404


def test_undeployed_account_answers_409_until_deployed(http: Client, account: str) -> None:
    assert post(http, at(account, "/undeploy")).status_code == 204
    shown = js(get(http, at(account)))
    assert (shown["state"], shown["connectionStatus"]) == ("UNDEPLOYED", "DISCONNECTED")

    for answer in (
        get(http, at(account, "/positions")),
        get(http, at(account, "/account-information")),
        post(
            http, at(account, "/trade"), {"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.1}
        ),
    ):
        assert answer.status_code == 409
        assert js(answer) == {
            "id": 1,
            "error": "NotConnectedError",
            "message": "Account is not connected to the broker yet",
        }

    assert post(http, at(account, "/deploy")).status_code == 204
    assert get(http, at(account, "/positions")).status_code == 200
    assert post(http, at(account, "/redeploy")).status_code == 204
    assert js(get(http, at(account)))["connectionStatus"] == "CONNECTED"


# Client reads


def test_account_information_follows_open_positions(http: Client, account: str, eurusd: None) -> None:
    fresh = read(http, account, "/account-information")
    assert (fresh["balance"], fresh["equity"], fresh["margin"], fresh["freeMargin"]) == (
        10000,
        10000,
        0,
        10000,
    )
    assert "marginLevel" not in fresh
    assert (fresh["login"], fresh["broker"], fresh["type"], fresh["credit"]) == (
        5001234,
        "Sim Broker Ltd",
        "ACCOUNT_TRADE_MODE_DEMO",
        0,
    )

    buy(http, account, volume=0.1)
    info = read(http, account, "/account-information")

    assert info["equity"] == pytest.approx(9999.0)  # bought at the ask, valued at the bid
    assert info["margin"] == pytest.approx(108.51)
    assert info["freeMargin"] == pytest.approx(9999.0 - 108.51)
    assert info["marginLevel"] == pytest.approx(9214.82)


def test_symbols_server_time_and_margin(http: Client, account: str) -> None:
    assert read(http, account, "/symbols") == [
        "BTCUSD", "EURGBP", "EURJPY", "EURUSD", "GBPJPY", "GBPUSD", "US30", "USDJPY", "XAUUSD",
    ]  # fmt: skip
    assert read(http, account, "/server-time") == {
        "time": "2024-05-15T10:00:00.000Z",
        "brokerTime": "2024-05-15 12:00:00.000",
    }
    margin = post(
        http,
        at(account, "/calculate-margin"),
        {"symbol": "EURUSD", "type": "ORDER_TYPE_BUY", "volume": 1, "openPrice": 1.1},
    )
    assert js(margin) == {"margin": 1100.0}
    yen = post(
        http,
        at(account, "/calculate-margin"),
        {"symbol": "USDJPY", "type": "ORDER_TYPE_SELL", "volume": 1, "openPrice": 150},
    )
    assert js(yen) == {"margin": 1000.0}
    bad = post(http, at(account, "/calculate-margin"), {"symbol": "EURUSD", "type": "BUY", "volume": 1})
    assert bad.status_code == 400
    assert js(bad)["error"] == "ValidationError"
    assert get(http, at(account, "/symbols/NOPE/specification")).status_code == 404
    assert get(http, at(account, "/symbols/NOPE/current-price")).status_code == 404


SPECS = [
    ("EURUSD", 5, 100000, 0.01, 100, 0.01, 10),
    ("GBPUSD", 5, 100000, 0.01, 100, 0.01, 10),
    ("USDJPY", 3, 100000, 0.01, 100, 0.01, 10),
    ("XAUUSD", 2, 100, 0.01, 50, 0.01, 20),
    ("US30", 1, 1, 0.1, 50, 0.1, 50),
    ("BTCUSD", 2, 1, 0.01, 10, 0.01, 500),
]
SPEC_FIELDS = {
    "symbol",
    "description",
    "digits",
    "point",
    "tickSize",
    "contractSize",
    "minVolume",
    "maxVolume",
    "volumeStep",
    "stopsLevel",
    "freezeLevel",
    "tradeMode",
    "executionMode",
    "fillingModes",
    "allowedOrderTypes",
    "allowedExpirationModes",
    "tradeSessions",
    "quoteSessions",
    "marginCurrency",
    "profitCurrency",
    "baseCurrency",
    "initialMargin",
    "swapMode",
    "pipSize",
}
DAY_NAMES = {"SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"}


@pytest.mark.parametrize(("symbol", "digits", "contract", "low", "high", "step", "stops"), SPECS)
def test_specification(
    http: Client,
    account: str,
    symbol: str,
    digits: int,
    contract: float,
    low: float,
    high: float,
    step: float,
    stops: int,
) -> None:
    spec = read(http, account, f"/symbols/{symbol}/specification")

    assert spec.keys() >= SPEC_FIELDS
    assert (spec["symbol"], spec["digits"], spec["contractSize"]) == (symbol, digits, contract)
    assert (spec["minVolume"], spec["maxVolume"], spec["volumeStep"], spec["stopsLevel"]) == (
        low,
        high,
        step,
        stops,
    )
    assert spec["point"] == spec["tickSize"] == pytest.approx(10**-digits)
    assert spec["tradeMode"] == "SYMBOL_TRADE_MODE_FULL"
    assert set(spec["tradeSessions"]) == set(spec["quoteSessions"]) == DAY_NAMES
    assert all(
        len(session["from"]) == len(session["to"]) == len("00:00:00.000")
        for sessions in spec["tradeSessions"].values()
        for session in sessions
    )
    price = read(http, account, f"/symbols/{symbol}/current-price")
    assert price["ask"] > price["bid"] > 0
    assert price["profitTickValue"] > 0


def test_sessions_of_us30_and_btcusd(http: Client, account: str) -> None:
    us30 = read(http, account, "/symbols/US30/specification")["tradeSessions"]
    btc = read(http, account, "/symbols/BTCUSD/specification")["tradeSessions"]

    assert us30["SATURDAY"] == us30["SUNDAY"] == []
    assert us30["MONDAY"] == [{"from": "01:00:00.000", "to": "23:00:00.000"}]
    assert all(btc[day] for day in DAY_NAMES)


def test_prices_walk_with_time_unless_pinned(http: Client, account: str, clock: Clock) -> None:
    start = read(http, account, "/symbols/EURUSD/current-price")
    assert (start["bid"], start["ask"]) == (1.085, 1.0851)
    assert read(http, account, "/symbols/USDJPY/current-price")["bid"] == 150

    clock.now += 120
    moved = read(http, account, "/symbols/EURUSD/current-price")
    assert (moved["bid"], moved["ask"]) != (start["bid"], start["ask"])
    assert moved["ask"] > moved["bid"]
    assert moved["time"] == "2024-05-15T10:02:00.000Z"

    # The same seed walks the same way, however often the price was read on the way.
    twin_clock = Clock(WEDNESDAY)
    twin = MetaApiSimulator(seed=7, time_source=twin_clock)
    twin_account = twin.create_account(TOKEN)
    twin_clock.now += 120
    assert read(Client(twin), twin_account, "/symbols/EURUSD/current-price")["bid"] == moved["bid"]

    pin(http, "EURUSD", "1.20000", "1.20020")
    clock.now += 600
    pinned = read(http, account, "/symbols/EURUSD/current-price")
    assert (pinned["bid"], pinned["ask"]) == (1.2, 1.2002)


def test_pinning_rejects_bad_prices(http: Client) -> None:
    assert http.put("/_sim/prices/EURUSD", json={"bid": 1.1, "ask": 1.09}).status_code == 400
    assert http.put("/_sim/prices/EURUSD", json={"bid": 1.123456, "ask": 1.2}).status_code == 400
    assert http.put("/_sim/prices/NOPE", json={"bid": 1, "ask": 2}).status_code == 404


# Trading


def test_market_buy_fills_at_ask_and_stamps_client_id_everywhere(
    http: Client, account: str, eurusd: None
) -> None:
    result = buy(http, account, volume=0.1, clientId="RF_EURUSD_1", comment="entry", magic=42)

    assert result["numericCode"] == 10009
    position = read(http, account, f"/positions/{result['positionId']}")
    assert position["openPrice"] == 1.0851
    assert (position["type"], position["volume"], position["magic"]) == ("POSITION_TYPE_BUY", 0.1, 42)
    assert (position["clientId"], position["comment"]) == ("RF_EURUSD_1", "entry")
    assert position["reason"] == "POSITION_REASON_EXPERT"
    assert position["unrealizedProfit"] == pytest.approx(-1.0)

    orders = read(http, account, f"/history-orders/time/{day_range()}")
    assert len(orders) == 1
    assert (orders[0]["id"], orders[0]["state"], orders[0]["clientId"]) == (
        result["orderId"],
        "ORDER_STATE_FILLED",
        "RF_EURUSD_1",
    )
    assert orders[0]["doneTime"] == "2024-05-15T10:00:00.000Z"
    deals = read(http, account, f"/history-deals/position/{result['positionId']}")
    assert len(deals) == 1
    assert (deals[0]["type"], deals[0]["entryType"], deals[0]["price"]) == (
        "DEAL_TYPE_BUY",
        "DEAL_ENTRY_IN",
        1.0851,
    )
    assert (deals[0]["clientId"], deals[0]["magic"], deals[0]["orderId"]) == (
        "RF_EURUSD_1",
        42,
        result["orderId"],
    )


def test_the_account_starts_with_a_balance_deal(http: Client, account: str) -> None:
    deals = read(http, account, f"/history-deals/time/{day_range()}")
    assert [(d["type"], d["profit"]) for d in deals] == [("DEAL_TYPE_BALANCE", 10000)]


def test_close_books_the_profit(http: Client, account: str, eurusd: None) -> None:
    opened = buy(http, account, volume=0.1, clientId="c1")
    pin(http, "EURUSD", "1.09010", "1.09020")

    closed = trade(
        http, account, actionType="POSITION_CLOSE_ID", positionId=opened["positionId"], clientId="c1x"
    )

    assert closed["stringCode"] == "TRADE_RETCODE_DONE"
    assert closed["positionId"] == opened["positionId"]
    assert read(http, account, "/positions") == []
    deals = read(http, account, f"/history-deals/position/{opened['positionId']}")
    out = deals[-1]
    assert (out["type"], out["entryType"], out["price"], out["profit"]) == (
        "DEAL_TYPE_SELL",
        "DEAL_ENTRY_OUT",
        1.0901,
        50.0,
    )
    assert out["clientId"] == "c1x"
    assert read(http, account, "/account-information")["balance"] == 10050
    assert get(http, at(account, f"/positions/{opened['positionId']}")).status_code == 404


def test_usdjpy_profit_is_converted_at_the_close_price(http: Client, account: str) -> None:
    pin(http, "USDJPY", "150.000", "150.010")
    opened = trade(http, account, actionType="ORDER_TYPE_BUY", symbol="USDJPY", volume=1)
    pin(http, "USDJPY", "151.010", "151.020")

    assert read(http, account, f"/positions/{opened['positionId']}")["profit"] == pytest.approx(662.21)
    trade(http, account, actionType="POSITION_CLOSE_ID", positionId=opened["positionId"])
    assert read(http, account, "/account-information")["balance"] == pytest.approx(10662.21)


def test_partial_close(http: Client, account: str, eurusd: None) -> None:
    opened = buy(http, account, volume=0.3)
    pin(http, "EURUSD", "1.08710", "1.08720")
    position_id = opened["positionId"]

    too_much = trade(http, account, actionType="POSITION_PARTIAL", positionId=position_id, volume=0.5)
    partial = trade(http, account, actionType="POSITION_PARTIAL", positionId=position_id, volume=0.1)

    assert too_much["numericCode"] == 10014
    assert partial["numericCode"] == 10009
    position = read(http, account, f"/positions/{position_id}")
    assert position["volume"] == pytest.approx(0.2)
    assert position["realizedProfit"] == pytest.approx(20.0)
    assert position["profit"] == pytest.approx(60.0)
    out = read(http, account, f"/history-deals/position/{position_id}")[-1]
    assert (out["entryType"], out["volume"], out["profit"]) == ("DEAL_ENTRY_OUT", 0.1, 20.0)
    assert read(http, account, "/account-information")["balance"] == 10020


def test_close_by_and_close_symbol(http: Client, account: str, eurusd: None) -> None:
    long = buy(http, account, volume=0.1)
    pin(http, "EURUSD", "1.08600", "1.08610")
    short = trade(http, account, actionType="ORDER_TYPE_SELL", symbol="EURUSD", volume=0.1)

    closed = trade(
        http,
        account,
        actionType="POSITION_CLOSE_BY",
        positionId=long["positionId"],
        closeByPositionId=short["positionId"],
    )

    assert closed["numericCode"] == 10009
    assert read(http, account, "/positions") == []
    assert read(http, account, "/account-information")["balance"] == 10009
    by_deals = [
        d
        for d in read(http, account, f"/history-deals/time/{day_range()}")
        if d["entryType"] == "DEAL_ENTRY_OUT_BY"
    ]
    assert len(by_deals) == 2

    buy(http, account, volume=0.1)
    buy(http, account, volume=0.2)
    trade(http, account, actionType="ORDER_TYPE_BUY", symbol="GBPUSD", volume=0.1)
    assert trade(http, account, actionType="POSITIONS_CLOSE_SYMBOL", symbol="EURUSD")["numericCode"] == 10009
    assert [p["symbol"] for p in read(http, account, "/positions")] == ["GBPUSD"]
    again = trade(http, account, actionType="POSITIONS_CLOSE_SYMBOL", symbol="EURUSD")
    assert again["numericCode"] == 4753


def test_netting_accounts_keep_one_position_per_symbol(
    http: Client, sim: MetaApiSimulator, eurusd: None
) -> None:
    netting = sim.create_account(TOKEN, margin_mode="ACCOUNT_MARGIN_MODE_RETAIL_NETTING")
    first = buy(http, netting, volume=0.1)
    second = buy(http, netting, volume=0.1)
    assert second["positionId"] == first["positionId"]
    assert read(http, netting, "/positions")[0]["volume"] == pytest.approx(0.2)

    reversed_ = trade(http, netting, actionType="ORDER_TYPE_SELL", symbol="EURUSD", volume=0.3)

    positions = read(http, netting, "/positions")
    assert [(p["id"], p["type"], p["volume"]) for p in positions] == [
        (first["positionId"], "POSITION_TYPE_SELL", pytest.approx(0.1))
    ]
    assert reversed_["positionId"] == first["positionId"]
    last = read(http, netting, f"/history-deals/position/{first['positionId']}")[-1]
    assert (last["entryType"], last["profit"]) == ("DEAL_ENTRY_INOUT", pytest.approx(-2.0))
    refused = trade(
        http, netting, actionType="POSITION_CLOSE_BY", positionId=first["positionId"], closeByPositionId="1"
    )
    assert refused["numericCode"] == 4753


def test_market_order_refusals(http: Client, account: str, eurusd: None) -> None:
    def code(**body: Any) -> str:
        result = trade(
            http, account, **{"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.1, **body}
        )
        return str(result["stringCode"])

    assert code(volume=0.015) == code(volume=0.001) == code(volume=101) == "TRADE_RETCODE_INVALID_VOLUME"
    assert code(symbol="EURUSDX") == "TRADE_RETCODE_INVALID"
    assert code(stopLoss=1.0860) == "TRADE_RETCODE_INVALID_STOPS"  # above the bid of a buy
    assert code(stopLoss=1.08495) == "TRADE_RETCODE_INVALID_STOPS"  # half a point away, stopsLevel is 10
    assert code(takeProfit=1.0840) == "TRADE_RETCODE_INVALID_STOPS"
    assert code(volume=20) == "TRADE_RETCODE_NO_MONEY"
    assert code(fillingModes=["ORDER_FILLING_RETURN"]) == "TRADE_RETCODE_INVALID_FILL"
    assert code(actionType="ORDER_TYPE_TELEPORT") == "TRADE_RETCODE_INVALID"
    assert code(stopLoss=1.0840, takeProfit=1.0900) == "TRADE_RETCODE_DONE"
    assert js(post(http, at(account, "/trade"), "not an object"))["numericCode"] == 10013
    assert len(read(http, account, "/positions")) == 1


def test_client_id_and_comment_share_26_characters(http: Client, account: str, eurusd: None) -> None:
    refused = trade(
        http,
        account,
        actionType="ORDER_TYPE_BUY",
        symbol="EURUSD",
        volume=0.1,
        clientId="c" * 20,
        comment="7" * 7,
    )
    assert refused["numericCode"] == 10013
    assert "26" in refused["message"]
    assert read(http, account, "/positions") == []
    assert buy(http, account, clientId="c" * 20, comment="6" * 6)["numericCode"] == 10009


def test_us30_market_is_closed_on_saturday(http: Client, account: str, clock: Clock) -> None:
    clock.now = SATURDAY.timestamp()
    closed = trade(http, account, actionType="ORDER_TYPE_BUY", symbol="US30", volume=0.1)
    crypto = trade(http, account, actionType="ORDER_TYPE_BUY", symbol="BTCUSD", volume=0.01)

    assert (closed["numericCode"], closed["stringCode"]) == (10018, "TRADE_RETCODE_MARKET_CLOSED")
    assert crypto["numericCode"] == 10009

    clock.now = WEDNESDAY.timestamp()
    assert (
        trade(http, account, actionType="ORDER_TYPE_BUY", symbol="US30", volume=0.1)["numericCode"] == 10009
    )


def test_position_modify_and_no_changes(http: Client, account: str, eurusd: None) -> None:
    position_id = buy(http, account)["positionId"]

    def modify(**body: Any) -> int:
        return int(
            trade(http, account, actionType="POSITION_MODIFY", positionId=position_id, **body)["numericCode"]
        )

    assert modify(stopLoss=1.08, takeProfit=1.09) == 10009
    assert modify(stopLoss=1.08, takeProfit=1.09) == 10025
    assert modify(stopLoss=1.0860) == 10016
    assert modify(takeProfit=1.095) == 10009
    position = read(http, account, f"/positions/{position_id}")
    assert (position["stopLoss"], position["takeProfit"]) == (1.08, 1.095)
    assert (
        trade(http, account, actionType="POSITION_MODIFY", positionId="999", stopLoss=1.08)["numericCode"]
        == 4753
    )


def test_pending_orders_place_modify_and_cancel(http: Client, account: str, eurusd: None) -> None:
    placed = trade(
        http,
        account,
        actionType="ORDER_TYPE_BUY_LIMIT",
        symbol="EURUSD",
        volume=0.2,
        openPrice=1.08,
        stopLoss=1.07,
        clientId="limit1",
        expiration={"type": "ORDER_TIME_SPECIFIED", "time": "2024-05-16T10:00:00.000Z"},
    )
    assert (placed["numericCode"], placed["stringCode"]) == (10008, "TRADE_RETCODE_PLACED")
    order = read(http, account, f"/orders/{placed['orderId']}")
    assert (order["state"], order["openPrice"], order["currentPrice"], order["currentVolume"]) == (
        "ORDER_STATE_PLACED",
        1.08,
        1.0851,
        0.2,
    )
    assert (order["expirationType"], order["expirationTime"]) == (
        "ORDER_TIME_SPECIFIED",
        "2024-05-16T10:00:00.000Z",
    )
    assert order["clientId"] == "limit1"
    assert read(http, account, "/positions") == []

    def act(**body: Any) -> int:
        return int(trade(http, account, **body)["numericCode"])

    assert act(actionType="ORDER_TYPE_BUY_LIMIT", symbol="EURUSD", volume=0.1, openPrice=1.09) == 10015
    assert act(actionType="ORDER_TYPE_SELL_STOP", symbol="EURUSD", volume=0.1, openPrice=1.08495) == 10015
    assert act(actionType="ORDER_TYPE_BUY_STOP_LIMIT", symbol="EURUSD", volume=0.1, openPrice=1.09) == 10013
    assert (
        act(
            actionType="ORDER_TYPE_BUY_STOP_LIMIT",
            symbol="EURUSD",
            volume=0.1,
            openPrice=1.09,
            stopLimitPrice=1.089,
        )
        == 10008
    )
    assert (
        act(actionType="ORDER_TYPE_SELL_LIMIT", symbol="EURUSD", volume=0.1, openPrice=1.09, stopLoss=1.08)
        == 10016
    )

    order_id = placed["orderId"]
    assert act(actionType="ORDER_MODIFY", orderId=order_id, openPrice=1.079, stopLoss=1.07) == 10009
    assert act(actionType="ORDER_MODIFY", orderId=order_id, openPrice=1.079, stopLoss=1.07) == 10025
    assert read(http, account, f"/orders/{order_id}")["openPrice"] == 1.079
    assert act(actionType="ORDER_MODIFY", orderId="1", openPrice=1.079) == 4754

    assert act(actionType="ORDER_CANCEL", orderId=order_id) == 10009
    assert [o["id"] for o in read(http, account, "/orders")] != [order_id]
    assert get(http, at(account, f"/orders/{order_id}")).status_code == 404
    canceled = [o for o in read(http, account, f"/history-orders/time/{day_range()}") if o["id"] == order_id]
    assert canceled[0]["state"] == "ORDER_STATE_CANCELED"
    assert canceled[0]["doneTime"] == "2024-05-15T10:00:00.000Z"
    assert act(actionType="ORDER_CANCEL", orderId=order_id) == 4754


def test_history_windows_and_paging(http: Client, account: str, clock: Clock, eurusd: None) -> None:
    first = buy(http, account)
    clock.now += 3600
    second = buy(http, account)
    start, middle = "2024-05-15T10:00:00.000Z", "2024-05-15T11:00:00.000Z"

    def ids(suffix: str) -> list[str]:
        return [o["id"] for o in read(http, account, suffix)]

    assert ids(f"/history-orders/time/{start}/{middle}") == [first["orderId"]]  # end is exclusive
    assert ids(f"/history-orders/time/{middle}/2024-05-15T12:00:00Z") == [second["orderId"]]
    assert ids(f"/history-orders/time/{day_range()}?offset=1&limit=1") == [second["orderId"]]
    assert ids(f"/history-orders/position/{second['positionId']}") == [second["orderId"]]
    assert len(ids(f"/history-deals/time/{day_range()}?limit=2")) == 2
    assert get(http, at(account, f"/history-deals/time/yesterday/{middle}")).status_code == 400
    assert get(http, at(account, f"/history-deals/time/{day_range()}?limit=1001")).status_code == 400


# Admin API


def test_admin_position_looks_placed_by_hand(http: Client, account: str, eurusd: None) -> None:
    answer = http.post(
        f"/_sim/accounts/{account}/positions",
        json={"symbol": "EURUSD", "type": "POSITION_TYPE_SELL", "volume": 0.1, "stopLoss": 1.09},
    )

    assert answer.status_code == 201
    position = js(answer)
    assert (position["type"], position["openPrice"], position["reason"]) == (
        "POSITION_TYPE_SELL",
        1.085,
        "POSITION_REASON_CLIENT",
    )
    assert "clientId" not in position
    assert read(http, account, "/positions") == [position]
    deal = read(http, account, f"/history-deals/position/{position['id']}")[0]
    assert (deal["entryType"], deal["reason"]) == ("DEAL_ENTRY_IN", "DEAL_REASON_CLIENT")
    bad = http.post(
        f"/_sim/accounts/{account}/positions", json={"symbol": "EURUSD", "type": "X", "volume": 0.1}
    )
    assert bad.status_code == 400
    refused = http.post(
        f"/_sim/accounts/{account}/positions",
        json={"symbol": "EURUSD", "type": "POSITION_TYPE_BUY", "volume": 0.015},
    )
    assert js(refused)["details"]["stringCode"] == "TRADE_RETCODE_INVALID_VOLUME"
    assert http.post("/_sim/accounts/nope/positions", json={}).status_code == 404


def test_trades_log_records_every_request(http: Client, account: str, eurusd: None) -> None:
    buy(http, account, clientId="log1")
    arm(http, account, endpoint="trade", kind="requote")
    trade(http, account, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1, clientId="log2")
    arm(http, account, endpoint="trade", kind="http_429")
    post(http, at(account, "/trade"), {"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.1})

    log = js(http.get(f"/_sim/accounts/{account}/trades"))

    assert [(r["fault"], r["executed"], r["httpStatus"]) for r in log] == [
        (None, True, 200),
        ("requote", False, 200),
        ("http_429", False, 429),
    ]
    assert log[0]["body"]["clientId"] == "log1"
    assert log[0]["response"]["stringCode"] == "TRADE_RETCODE_DONE"
    assert log[1]["response"]["numericCode"] == 10004
    assert log[0]["time"] == "2024-05-15T10:00:00.000Z"


# Faults


def test_fault_validation(http: Client, account: str) -> None:
    assert arm(http, account, endpoint="nowhere", kind="http_500").status_code == 400
    assert arm(http, account, endpoint="positions", kind="explode").status_code == 400
    assert arm(http, account, endpoint="positions", kind="requote").status_code == 400
    assert arm(http, account, endpoint="trade", kind="http_500", count=0).status_code == 400
    assert arm(http, "no-such-account", endpoint="trade", kind="http_500").status_code == 404
    stored = arm(http, account, endpoint="orders", kind="http_500", count=2)
    assert stored.status_code == 201
    assert js(stored) == {
        "endpoint": "orders",
        "kind": "http_500",
        "count": 2,
        "retryAfterSeconds": 1,
        "delaySeconds": 2,
    }


def test_http_429(http: Client, account: str) -> None:
    arm(http, account, endpoint="positions", kind="http_429", retryAfterSeconds=3)

    before = time.time()
    limited = get(http, at(account, "/positions"))
    after = time.time()

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"
    assert js(limited)["error"] == "TooManyRequestsError"
    metadata = js(limited)["metadata"]
    retry_at = datetime.fromisoformat(metadata.pop("recommendedRetryTime")).timestamp()
    assert metadata == {
        "periodInMinutes": 1,
        "maxRequestsForPeriod": 60,
        "type": "LIMIT_REQUEST_RATE_PER_USER",
    }
    # On the wall clock, like Retry-After, whatever the simulated market time is.
    assert before + 3 - 0.01 <= retry_at <= after + 3 + 0.01
    assert get(http, at(account, "/positions")).status_code == 200


def test_http_500_counts_down_and_clears(http: Client, account: str) -> None:
    arm(http, account, endpoint="account-information", kind="http_500", count=2)
    arm(http, account, endpoint="provisioning", kind="http_500", count=5)

    statuses = [get(http, at(account, "/account-information")).status_code for _ in range(3)]
    failed = get(http, at(account))
    assert http.delete(f"/_sim/accounts/{account}/faults").status_code == 204

    assert statuses == [500, 500, 200]
    assert (failed.status_code, js(failed)["error"]) == (500, "InternalError")
    assert get(http, at(account)).status_code == 200


def test_timeout_answers_late(http: Client, account: str) -> None:
    arm(http, account, endpoint="server-time", kind="timeout", delaySeconds=0.2)
    started = time.monotonic()
    answer = get(http, at(account, "/server-time"))
    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("requote", (10004, "TRADE_RETCODE_REQUOTE")),
        ("market_closed", (10018, "TRADE_RETCODE_MARKET_CLOSED")),
        ("invalid_stops", (10016, "TRADE_RETCODE_INVALID_STOPS")),
        ("not_connected", (10031, "TRADE_RETCODE_CONNECTION")),
    ],
)
def test_trade_refusing_faults_do_not_execute(
    http: Client, account: str, eurusd: None, kind: str, code: tuple[int, str]
) -> None:
    arm(http, account, endpoint="trade", kind=kind)

    result = trade(http, account, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1)

    assert (result["numericCode"], result["stringCode"]) == code
    assert read(http, account, "/positions") == []
    assert buy(http, account)["numericCode"] == 10009


def test_disconnect_after_execute_still_trades(http: Client, account: str, eurusd: None) -> None:
    arm(http, account, endpoint="trade", kind="disconnect_after_execute")

    result = trade(http, account, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1, clientId="dc1")

    assert (result["numericCode"], result["stringCode"]) == (-11, "TRADE_RETCODE_DISCONNECTED_DURING_TRADE")
    assert [p["clientId"] for p in read(http, account, "/positions")] == ["dc1"]
    assert js(http.get(f"/_sim/accounts/{account}/trades"))[0]["executed"] is True


def _positions_when_ready(
    http: Client, account: str, timeout_s: float = 5.0
) -> Iterator[list[dict[str, Any]]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        yield read(http, account, "/positions")
        time.sleep(0.05)


def test_execute_late_answers_timed_out_then_trades(http: Client, account: str, eurusd: None) -> None:
    arm(http, account, endpoint="trade", kind="execute_late", delaySeconds=0.5)

    result = trade(http, account, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1, clientId="late1")

    assert (result["numericCode"], result["stringCode"]) == (-7, "ERR_TRADE_TIMED_OUT")
    assert read(http, account, "/positions") == []
    arrived = next((p for p in _positions_when_ready(http, account) if p), [])
    assert [p["clientId"] for p in arrived] == ["late1"]
    record = js(http.get(f"/_sim/accounts/{account}/trades"))[0]
    assert record["executed"] is True
    assert record["lateResult"]["stringCode"] == "TRADE_RETCODE_DONE"


def test_not_connected_fault_on_reads(http: Client, account: str) -> None:
    arm(http, account, endpoint="orders", kind="not_connected")

    refused = get(http, at(account, "/orders"))

    assert refused.status_code == 409
    assert js(refused)["error"] == "NotConnectedError"
    assert get(http, at(account, "/orders")).status_code == 200


def test_empty_positions_while_reconnecting(http: Client, account: str, eurusd: None) -> None:
    position_id = buy(http, account)["positionId"]
    arm(http, account, endpoint="positions", kind="empty_positions", count=2)

    assert js(get(http, at(account)))["connectionStatus"] == "DISCONNECTED"
    assert [a["connectionStatus"] for a in js(get(http, ACCOUNTS))] == ["DISCONNECTED"]
    assert read(http, account, "/positions") == []
    assert get(http, at(account, f"/positions/{position_id}")).status_code == 404

    assert js(get(http, at(account)))["connectionStatus"] == "CONNECTED"
    assert [p["id"] for p in read(http, account, "/positions")] == [position_id]


def test_admin_positions_exist_whatever_the_day(http: Client, account: str, clock: Clock) -> None:
    # Given a Saturday, when no forex session is open
    clock.now = SATURDAY.timestamp()

    # Then a position "already at the broker" can still be set up, while an API trade is refused
    answer = http.post(
        f"/_sim/accounts/{account}/positions",
        json={"symbol": "EURUSD", "type": "POSITION_TYPE_BUY", "volume": 0.1},
    )
    trade = http.post(
        f"/users/current/accounts/{account}/trade",
        json={"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.1},
        headers={"auth-token": TOKEN},
    )

    assert answer.status_code == 201
    assert trade.get_json()["stringCode"] == "TRADE_RETCODE_MARKET_CLOSED"


def test_an_account_keeps_its_money_in_its_own_currency(sim: MetaApiSimulator, http: Client) -> None:
    euro = sim.create_account(TOKEN, currency="EUR", balance=Decimal(5000), leverage=30)
    pin(http, "EURUSD", "1.25000", "1.25000")
    pin(http, "EURJPY", "160.000", "160.000")
    opened = trade(http, euro, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=1)
    pin(http, "EURUSD", "1.25500", "1.25500")

    info = read(http, euro, "/account-information")
    position = read(http, euro, f"/positions/{opened['positionId']}")
    # 1 lot, 0.005 up: 500 USD, at 1.255 USD a euro (the close price, EURUSD being the euro's own pair)
    assert (info["currency"], info["leverage"]) == ("EUR", 30)
    assert position["profit"] == pytest.approx(398.41)
    assert info["equity"] == pytest.approx(5398.41)
    # One tick of USDJPY (0.001 x 100000 = 100 JPY) is 100 / 160 EUR; of EURUSD (1 USD) 1 / 1.255 EUR
    pin(http, "USDJPY", "150.000", "150.000")
    assert read(http, euro, "/symbols/USDJPY/current-price")["lossTickValue"] == pytest.approx(0.625)
    assert read(http, euro, "/symbols/EURUSD/current-price")["profitTickValue"] == pytest.approx(1 / 1.255)


def test_a_yen_account_converts_pounds_at_the_cross(sim: MetaApiSimulator, http: Client) -> None:
    yen = sim.create_account(TOKEN, currency="JPY", balance=Decimal(1_000_000))
    pin(http, "GBPUSD", "1.30000", "1.30000")
    pin(http, "GBPJPY", "200.000", "200.000")

    # One tick of EURGBP (0.00001 x 100000 = 1 GBP) is 200 JPY
    assert read(http, yen, "/symbols/EURGBP/current-price")["lossTickValue"] == pytest.approx(200.0)
    # One tick of GBPJPY (0.001 x 100000 = 100 JPY) is 100 JPY
    assert read(http, yen, "/symbols/GBPJPY/current-price")["lossTickValue"] == pytest.approx(100.0)


def test_the_admin_api_changes_an_accounts_currency_balance_and_leverage(http: Client, account: str) -> None:
    changed = http.put(
        f"/_sim/accounts/{account}", json={"currency": "JPY", "balance": 1500000, "leverage": 500}
    )
    refused = http.put(f"/_sim/accounts/{account}", json={"currency": "CHF"})

    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert (js(changed)["currency"], js(changed)["balance"], js(changed)["leverage"]) == ("JPY", 1500000, 500)
    assert refused.status_code == 400
    deposits = [
        deal
        for deal in read(http, account, f"/history-deals/time/{day_range()}")
        if deal["type"] == "DEAL_TYPE_BALANCE"
    ]
    assert [deal["profit"] for deal in deposits] == [10000, 1490000]

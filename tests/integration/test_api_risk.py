"""Risk through the API: the profile, sizing on accounts in other currencies, refusals at
acceptance and right before the send, the kill switch, the loss guards at a sync, the status and
the preview."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from infra.local.queues import QueuePoller
from tests.integration.conftest import Api, Simulator, trades_log

ACCOUNTS = "/api/metatrader/accounts"
ORDER = {"symbol": "EURUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.1}
CENT = Decimal("0.01")
Listener = Callable[[], list[dict[str, Any]]]


def _drain(poller: QueuePoller, rounds: int = 20) -> None:
    for _ in range(rounds):
        if poller.poll_once() == 0:
            return


def _link(api: Api, simulator: Simulator, user: str = "alice", **fields: Any) -> tuple[str, str]:
    metaapi_id = simulator.account(metadata={"userId": user}, **fields)
    answer = api.call("POST", ACCOUNTS, user=user, body={"metaapiAccountId": metaapi_id})
    assert answer.status == 201, answer.body
    return metaapi_id, answer.body["id"]


def _set_risk(api: Api, account_id: str, **profile: Any) -> dict[str, Any]:
    answer = api.call("PUT", f"{ACCOUNTS}/{account_id}/risk", user="alice", body=profile)
    assert answer.status == 200, answer.body
    stored: dict[str, Any] = answer.body
    return stored


def _trade(api: Api, account_id: str, trade_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = api.call("GET", f"{ACCOUNTS}/{account_id}/trades/{trade_id}", user="alice").body
    return answer


def _down(value: Decimal, step: str = "0.01") -> Decimal:
    return value.quantize(Decimal(step), rounding=ROUND_DOWN)


# The profile ------------------------------------------------------------------------------------


def test_the_profile_is_stored_whole_with_when_and_read_back(api: Api, linked: tuple[str, str]) -> None:
    _, account_id = linked
    path = f"{ACCOUNTS}/{account_id}/risk"

    empty = api.call("GET", path, user="alice")
    stored = _set_risk(
        api,
        account_id,
        maxVolumePerOrder=1,
        maxDailyLoss={"percent": 3},
        tradingWindows={
            "timeZone": "Europe/London",
            "windows": [{"days": ["MONDAY"], "from": "08:00", "to": "17:00"}],
        },
        onBreach="flatten",
    )
    read = api.call("GET", path, user="alice")
    replaced = _set_risk(api, account_id, requireStopLoss=True)

    assert empty.status == 200
    assert empty.body["onBreach"] == "halt"
    assert empty.body["maxVolumePerOrder"] is None
    assert stored["updatedAt"]
    assert read.body == stored
    assert (stored["maxVolumePerOrder"], stored["maxDailyLoss"]["percent"], stored["onBreach"]) == (
        1,
        3,
        "flatten",
    )
    assert replaced["maxVolumePerOrder"] is None  # a limit left out is no limit


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"maxVolumePerOrder": 0}, "body.maxVolumePerOrder"),
        ({"maxOpenPositions": -1}, "body.maxOpenPositions"),
        ({"maxRiskPerTradePercent": 101}, "body.maxRiskPerTradePercent"),
        ({"maxDailyLoss": {"amount": 10, "percent": 1}}, "body.maxDailyLoss"),
        ({"onBreach": "panic"}, "body.onBreach"),
        ({"tradingWindows": {"timeZone": "Mars/Olympus", "windows": []}}, "body.tradingWindows.timeZone"),
        (
            {"tradingWindows": {"timeZone": "UTC", "windows": [{"days": ["MONDAY"], "from": "8"}]}},
            "body.tradingWindows",
        ),
        ({"maxLoss": 5}, "body.maxLoss"),
    ],
)
def test_a_bad_profile_is_422_naming_the_field(
    api: Api, linked: tuple[str, str], body: dict[str, Any], field: str
) -> None:
    _, account_id = linked

    answer = api.call("PUT", f"{ACCOUNTS}/{account_id}/risk", user="alice", body=body)

    assert answer.status == 422, answer.body
    assert answer.body["code"] == "VALIDATION_ERROR"
    assert any(detail["field"].startswith(field) for detail in answer.body["details"]), answer.body


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/risk", None),
        ("PUT", "/risk", {"maxOpenPositions": 1}),
        ("GET", "/risk/status", None),
        ("POST", "/risk/halt", {"flatten": True}),
        ("POST", "/risk/resume", None),
        ("POST", "/risk/preview", ORDER),
    ],
)
def test_another_tenants_account_is_404_on_every_risk_route(
    api: Api,
    simulator: Simulator,
    linked: tuple[str, str],
    executor_poller: QueuePoller,
    method: str,
    path: str,
    body: Any,
) -> None:
    metaapi_id, account_id = linked
    simulator.open_position(metaapi_id)

    answer = api.call(method, f"{ACCOUNTS}/{account_id}{path}", user="mallory", body=body)
    _drain(executor_poller)
    own = api.call("GET", f"{ACCOUNTS}/{account_id}", user="alice").body

    assert (answer.status, answer.body["code"]) == (404, "NOT_FOUND")
    assert own["tradingHalted"] is False
    assert len(simulator.sim_positions(metaapi_id)) == 1
    assert api.call("GET", f"{ACCOUNTS}/{account_id}/risk", user="alice").body["maxOpenPositions"] is None


# Sizing ----------------------------------------------------------------------------------------


def test_risk_amount_on_a_euro_account_sizes_a_yen_pair_from_the_cross(
    api: Api, simulator: Simulator, executor_poller: QueuePoller
) -> None:
    simulator.set_price("USDJPY", 150.000, 150.010)
    simulator.set_price("EURJPY", 160.000, 160.020)
    _, account_id = _link(api, simulator, currency="EUR", balance=Decimal(20000))
    # Bought at 150.010, stopped at 149.510: 0.500 yen a unit, 50,000 yen a lot, at EURJPY's mid.
    per_lot = Decimal("0.500") * 100000 / Decimal("160.010")
    order = {
        "symbol": "USDJPY",
        "actionType": "ORDER_TYPE_BUY",
        "stopLoss": 149.510,
        "sizing": {"mode": "risk_amount", "amount": 100},
    }

    accepted = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=order)
    _drain(executor_poller)
    final = _trade(api, account_id, accepted.body["id"])

    volume = _down(Decimal(100) / per_lot)
    assert accepted.status == 202, accepted.body
    assert Decimal(str(accepted.body["volume"])) == volume == Decimal("0.32")
    assert Decimal(str(accepted.body["riskAmount"])) == (volume * per_lot).quantize(CENT) <= 100
    assert accepted.body["sizing"] == {"mode": "risk_amount", "amount": 100}
    assert final["status"] == "EXECUTED"
    assert Decimal(str(final["volume"])) == volume


def test_risk_percent_on_a_yen_account_sizes_gold_and_shows_the_risk(api: Api, simulator: Simulator) -> None:
    simulator.set_price("XAUUSD", 2000.00, 2000.30)
    simulator.set_price("USDJPY", 150.000, 150.010)
    _, account_id = _link(api, simulator, currency="JPY", balance=Decimal(1500000))
    # Bought at 2000.30, stopped at 1990.30: 10 dollars an ounce, 1,000 a lot of 100, in yen at the mid.
    per_lot = Decimal(10) * 100 * Decimal("150.005")
    budget = Decimal(1500000) / 100
    order = {
        "symbol": "XAUUSD",
        "actionType": "ORDER_TYPE_BUY",
        "stopLoss": 1990.30,
        "sizing": {"mode": "risk_percent", "percent": 1, "of": "balance"},
    }

    accepted = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=order).body

    volume = _down(budget / per_lot)
    assert Decimal(str(accepted["volume"])) == volume == Decimal("0.09")
    assert Decimal(str(accepted["riskAmount"])) == (volume * per_lot).quantize(CENT)
    assert Decimal(str(accepted["riskPercent"])) == (volume * per_lot / Decimal(1500000) * 100).quantize(CENT)


def test_an_order_sized_at_execution_is_sized_with_the_money_as_it_is_when_sent(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    simulator.set_price("EURUSD", 1.08500, 1.08510)
    metaapi_id, account_id = linked  # 10,000 dollars
    order = {
        "symbol": "EURUSD",
        "actionType": "ORDER_TYPE_BUY",
        "stopLoss": 1.07510,  # 100 pips: 1,000 dollars a lot
        "sizing": {"mode": "risk_percent", "percent": 1, "of": "balance"},
        "sizeAt": "execution",
    }

    accepted = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=order).body
    answer = simulator.session.put(
        f"{simulator.url}/_sim/accounts/{metaapi_id}", json={"balance": 25000}, timeout=5
    )
    _drain(executor_poller)
    final = _trade(api, account_id, accepted["id"])

    assert answer.status_code == 200, answer.text
    assert (Decimal(str(accepted["volume"])), accepted["sizeAt"]) == (Decimal("0.1"), "execution")
    assert final["status"] == "EXECUTED", final
    assert Decimal(str(final["volume"])) == Decimal("0.25")  # 1% of 25,000 at 1,000 a lot
    assert Decimal(str(final["riskAmount"])) == Decimal(250)
    assert [entry["body"]["volume"] for entry in trades_log(simulator, metaapi_id)] == [0.25]


def test_a_budget_below_the_smallest_trade_is_422_saying_what_that_would_risk(
    api: Api, simulator: Simulator, linked: tuple[str, str]
) -> None:
    simulator.set_price("EURUSD", 1.08500, 1.08510)
    _, account_id = linked
    order = {
        "symbol": "EURUSD",
        "actionType": "ORDER_TYPE_BUY",
        "stopLoss": 1.07510,  # 100 pips: 1,000 dollars a lot, 10 at the minimum of 0.01
        "sizing": {"mode": "risk_amount", "amount": 5},
    }

    answer = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=order)

    assert answer.status == 422, answer.body
    assert answer.body["code"] == "SIZING_BELOW_MIN_VOLUME"
    assert "0.01 lots of EURUSD, would risk 10.00 USD" in answer.body["message"], answer.body
    assert api.call("GET", f"{ACCOUNTS}/{linked[1]}/trades", user="alice").body["items"] == []


# Refusals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "inside", "outside", "code"),
    [
        ({"maxVolumePerOrder": 0.5}, {"volume": 0.5}, {"volume": 0.51}, "RISK_MAX_VOLUME"),
        ({"requireStopLoss": True}, {"stopLoss": 1.08}, {}, "RISK_NO_STOP_LOSS"),
        ({"blockedSymbols": ["GBPUSD"]}, {}, {"symbol": "GBPUSD"}, "RISK_SYMBOL_NOT_ALLOWED"),
        ({"allowedSymbols": ["EURUSD"]}, {}, {"symbol": "USDJPY"}, "RISK_SYMBOL_NOT_ALLOWED"),
        # 100 pips on 0.1 lot is 100 dollars, 1% of 10,000; 0.11 lot is 1.1%.
        (
            {"maxRiskPerTradePercent": 1},
            {"stopLoss": 1.07510},
            {"stopLoss": 1.07510, "volume": 0.11},
            "RISK_TRADE_RISK",
        ),
    ],
)
def test_an_entry_over_a_limit_is_refused_at_acceptance_with_its_code(
    api: Api,
    simulator: Simulator,
    linked: tuple[str, str],
    profile: dict[str, Any],
    inside: dict[str, Any],
    outside: dict[str, Any],
    code: str,
) -> None:
    simulator.set_price("EURUSD", 1.08500, 1.08510)
    _, account_id = linked
    _set_risk(api, account_id, **profile)
    orders = f"{ACCOUNTS}/{account_id}/orders"

    passed = api.call("POST", orders, user="alice", body={**ORDER, **inside})
    refused = api.call("POST", orders, user="alice", body={**ORDER, **outside})

    assert passed.status == 202, passed.body
    assert refused.status == 422, refused.body
    assert refused.body["code"] == code
    assert refused.body["message"]
    assert refused.body["details"][0]["limit"] is not None
    assert len(api.call("GET", f"{ACCOUNTS}/{account_id}/trades", user="alice").body["items"]) == 1


def test_an_entry_that_went_over_a_limit_after_it_was_queued_is_rejected_unsent(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    _set_risk(api, account_id, maxOpenPositions=1)
    orders = f"{ACCOUNTS}/{account_id}/orders"

    first = api.call("POST", orders, user="alice", body=ORDER).body
    second = api.call("POST", orders, user="alice", body=ORDER).body  # nothing open yet: accepted
    _drain(executor_poller)
    refused = _trade(api, account_id, second["id"])

    assert _trade(api, account_id, first["id"])["status"] == "EXECUTED"
    assert (refused["status"], refused["code"]) == ("REJECTED", "RISK_MAX_POSITIONS")
    assert refused["reason"].startswith("not sent: RISK_MAX_POSITIONS")
    assert [entry["body"]["clientId"] for entry in trades_log(simulator, metaapi_id)] == [first["clientId"]]


def test_an_entry_whose_risk_cannot_be_read_before_the_send_waits_unsent(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    simulator.open_position(metaapi_id)  # not synced: acceptance counts none open
    _set_risk(api, account_id, maxOpenPositions=1)
    accepted = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER).body
    simulator.fault(metaapi_id, "positions", "http_500", count=100)

    executor_poller.poll_once()
    waiting = _trade(api, account_id, accepted["id"])

    assert waiting["status"] in ("QUEUED", "WAITING"), waiting
    assert trades_log(simulator, metaapi_id) == []  # never sent unjudged


# The kill switch ---------------------------------------------------------------------------------


def test_a_halt_stops_queued_entries_and_refuses_new_ones_but_never_a_close(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    position = simulator.open_position(metaapi_id)
    queued = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER).body

    halted = api.call(
        "POST", f"{ACCOUNTS}/{account_id}/risk/halt", user="alice", body={"reason": "news at 14:30"}
    )
    refused = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER)
    close = api.call("DELETE", f"{ACCOUNTS}/{account_id}/positions/{position['id']}", user="alice")
    _drain(executor_poller)
    resumed = api.call("POST", f"{ACCOUNTS}/{account_id}/risk/resume", user="alice")
    after = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER)

    assert halted.status == 200, halted.body
    assert (halted.body["halted"], halted.body["reason"], halted.body["flatten"]) == (
        True,
        "news at 14:30",
        None,
    )
    assert (refused.status, refused.body["code"]) == (409, "RISK_HALTED")
    assert "news at 14:30" in refused.body["message"]
    assert (
        _trade(api, account_id, queued["id"])["status"],
        _trade(api, account_id, queued["id"])["code"],
    ) == (
        "REJECTED",
        "RISK_HALTED",
    )
    assert _trade(api, account_id, close.body["id"])["status"] == "EXECUTED"
    assert simulator.sim_positions(metaapi_id) == []
    assert [entry["body"]["actionType"] for entry in trades_log(simulator, metaapi_id)] == [
        "POSITION_CLOSE_ID"
    ]
    assert (resumed.status, resumed.body["halted"], resumed.body["reason"]) == (200, False, None)
    assert after.status == 202


def test_on_a_netting_account_an_order_that_only_reduces_is_never_refused_by_a_risk_rule(
    api: Api, simulator: Simulator, sync_poller: QueuePoller, executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = _link(api, simulator, margin_mode="ACCOUNT_MARGIN_MODE_RETAIL_NETTING")
    simulator.open_position(metaapi_id, volume=0.3)
    api.call("POST", f"{ACCOUNTS}/{account_id}/sync/full", user="alice")
    sync_poller.poll_once()
    _set_risk(api, account_id, requireStopLoss=True, maxOpenPositions=0)
    orders = f"{ACCOUNTS}/{account_id}/orders"
    sell = {"symbol": "EURUSD", "actionType": "ORDER_TYPE_SELL"}

    reducing = api.call("POST", orders, user="alice", body={**sell, "volume": 0.1})
    api.call("POST", f"{ACCOUNTS}/{account_id}/risk/halt", user="alice", body={})
    queued_reduce = api.call("POST", orders, user="alice", body={**sell, "volume": 0.1})
    reversing = api.call("POST", orders, user="alice", body={**sell, "volume": 0.5})
    adding = api.call("POST", orders, user="alice", body={**ORDER, "volume": 0.1})
    _drain(executor_poller)

    assert (reducing.status, queued_reduce.status) == (202, 202), (reducing.body, queued_reduce.body)
    assert [_trade(api, account_id, a.body["id"])["status"] for a in (reducing, queued_reduce)] == [
        "EXECUTED",
        "EXECUTED",
    ]
    assert [p["volume"] for p in simulator.sim_positions(metaapi_id)] == [0.1]
    assert (reversing.status, reversing.body["code"]) == (409, "RISK_HALTED")  # past the position: an entry
    assert (adding.status, adding.body["code"]) == (409, "RISK_HALTED")


def test_a_flatten_closes_every_position_and_cancels_every_order_exactly_once(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = linked
    simulator.set_price("EURUSD", 1.08500, 1.08510)
    for symbol in ("EURUSD", "XAUUSD", "EURUSD"):
        simulator.open_position(metaapi_id, symbol=symbol)
    pending = {"symbol": "EURUSD", "actionType": "ORDER_TYPE_BUY_LIMIT", "volume": 0.1, "openPrice": 1.05}
    api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=pending)
    _drain(executor_poller)
    halt = f"{ACCOUNTS}/{account_id}/risk/halt"

    first = api.call("POST", halt, user="alice", body={"flatten": True}).body
    again = api.call("POST", halt, user="alice", body={"flatten": True}).body  # while under way
    _drain(executor_poller)
    parent = _trade(api, account_id, first["flatten"]["id"])
    sent = [entry["body"]["actionType"] for entry in trades_log(simulator, metaapi_id)]

    assert first["halted"] is True
    assert again["flatten"]["id"] == first["flatten"]["id"]
    assert (parent["kind"], parent["status"]) == ("flatten", "EXECUTED")
    assert parent["reason"] == "closed 3 of 3 positions and canceled 1 of 1 pending orders"
    assert len(parent["children"]) == 4
    assert sorted(sent) == ["ORDER_CANCEL", "ORDER_TYPE_BUY_LIMIT", *["POSITION_CLOSE_ID"] * 3]
    assert simulator.sim_positions(metaapi_id) == []
    assert api.call("GET", f"{ACCOUNTS}/{account_id}", user="alice").body["tradingHalted"] is True


def test_of_two_halts_at_once_only_one_starts_a_flatten(
    api: Api, simulator: Simulator, linked: tuple[str, str], executor_poller: QueuePoller
) -> None:
    from mtcore.accounts import get_accounts_repository
    from mtcore.trading import get_trade_desk
    from mtcore.trading.risk_controls import HaltRequest, halt_account

    metaapi_id, account_id = linked
    simulator.open_position(metaapi_id)
    read_before = get_accounts_repository().get("alice", account_id)  # the other halt's copy

    first = api.call("POST", f"{ACCOUNTS}/{account_id}/risk/halt", user="alice", body={"flatten": True}).body
    second = halt_account(read_before, HaltRequest(flatten=True), desk=get_trade_desk())
    _drain(executor_poller)

    assert second.flatten is not None
    assert second.flatten.id == first["flatten"]["id"]
    assert [entry["body"]["actionType"] for entry in trades_log(simulator, metaapi_id)] == [
        "POSITION_CLOSE_ID"
    ]
    assert len(api.call("GET", f"{ACCOUNTS}/{account_id}/trades", user="alice").body["items"]) == 2


def test_a_users_halt_and_resume_reach_all_their_accounts_and_only_theirs(
    api: Api, simulator: Simulator, linked: tuple[str, str]
) -> None:
    _, first = linked
    _, second = _link(api, simulator, login="5001235")
    _, bobs = _link(api, simulator, user="bob", login="5001236")

    halted = api.call("POST", "/api/metatrader/risk/halt", user="alice", body={"reason": "away"})
    states = {
        a: api.call("GET", f"{ACCOUNTS}/{a}", user="alice").body["tradingHalted"] for a in (first, second)
    }
    bob_halted = api.call("GET", f"{ACCOUNTS}/{bobs}", user="bob").body["tradingHalted"]
    resumed = api.call("POST", "/api/metatrader/risk/resume", user="alice")

    assert halted.status == 200, halted.body
    assert sorted(state["accountId"] for state in halted.body) == sorted([first, second])
    assert all(state["halted"] and state["reason"] == "away" for state in halted.body)
    assert states == {first: True, second: True}
    assert bob_halted is False
    assert [state["halted"] for state in resumed.body] == [False, False]


# The loss guards, the status and the preview -----------------------------------------------------


def test_a_daily_loss_found_by_a_sync_halts_the_account_once_and_is_announced(
    api: Api,
    simulator: Simulator,
    linked: tuple[str, str],
    sync_poller: QueuePoller,
    account_event_listener: Listener,
) -> None:
    metaapi_id, account_id = linked  # 10,000 dollars
    simulator.set_price("EURUSD", 1.08500, 1.08510)
    simulator.open_position(metaapi_id, volume=1)
    _set_risk(api, account_id, maxDailyLoss={"amount": 200})

    def sync() -> None:
        api.call("POST", f"{ACCOUNTS}/{account_id}/sync/full", user="alice")
        sync_poller.poll_once()

    sync()  # the day starts with the position open at the spread's loss
    start = api.call("GET", f"{ACCOUNTS}/{account_id}/risk/status", user="alice").body
    while account_event_listener():
        pass
    simulator.set_price("EURUSD", 1.08290, 1.08300)  # 1 lot bought at 1.08510: 22 pips, 220 dollars
    sync()
    sync()  # a second look at the same breach acts on nothing
    events = [event for batch in iter(account_event_listener, []) for event in batch]
    status = api.call("GET", f"{ACCOUNTS}/{account_id}/risk/status", user="alice").body
    refused = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER)

    kinds = [event["detail-type"] for event in events]
    assert start["halted"] is False
    assert status["halted"] is True
    assert status["haltReason"].startswith("today's loss of 220")
    assert Decimal(str(status["todayPnl"])) == Decimal(-220)
    assert kinds.count("RiskLimitBreached") == 1
    assert kinds.count("AccountHalted") == 1
    breach = next(event for event in events if event["detail-type"] == "RiskLimitBreached")["detail"]
    assert (breach["code"], breach["limit"], breach["accountId"], breach["userId"]) == (
        "RISK_DAILY_LOSS",
        "200",
        account_id,
        "alice",
    )
    assert (refused.status, refused.body["code"]) == (409, "RISK_HALTED")

    api.call("POST", f"{ACCOUNTS}/{account_id}/risk/resume", user="alice")
    resumed = [event["detail-type"] for batch in iter(account_event_listener, []) for event in batch]
    assert "AccountResumed" in resumed


def test_the_status_shows_each_limit_with_its_usage(
    api: Api, simulator: Simulator, linked: tuple[str, str]
) -> None:
    metaapi_id, account_id = linked
    simulator.open_position(metaapi_id)
    simulator.open_position(metaapi_id, symbol="XAUUSD", volume=0.2)
    _set_risk(
        api,
        account_id,
        maxOpenPositions=5,
        maxTotalVolumePerSymbol=1,
        maxDrawdownPercent=10,
        maxDailyLoss={"percent": 2.5},
        blockedSymbols=["BTCUSD", "US30"],
        tradingWindows={
            "timeZone": "America/New_York",
            "windows": [{"days": ["MONDAY", "TUESDAY"], "from": "09:30", "to": "16:00"}],
        },
    )

    status = api.call("GET", f"{ACCOUNTS}/{account_id}/risk/status", user="alice")

    assert status.status == 200, status.body
    assert (status.body["halted"], status.body["openPositions"], status.body["tradesToday"]) == (False, 2, 0)
    assert status.body["currency"] == "USD"
    usage = {limit["limit"]: (limit["value"], limit["current"]) for limit in status.body["limits"]}
    spread_paid = f"{-Decimal(str(status.body['todayPnl'])):.2f}"  # both opened at the ask
    new_york = datetime.now(ZoneInfo("America/New_York"))
    in_window = new_york.weekday() in (0, 1) and time(9, 30) <= new_york.time() < time(16)
    assert Decimal(spread_paid) > 0
    assert usage == {
        "maxOpenPositions": ("5", "2"),
        "maxTotalVolumePerSymbol": ("1", "0.2"),
        "maxDrawdownPercent": ("10", "0.00%"),  # nothing lost yet
        "maxDailyLoss": ("2.5%", spread_paid),
        "blockedSymbols": ("BTCUSD, US30", None),
        "tradingWindows": (
            "Mon, Tue 09:30-16:00 (America/New_York)",
            "open" if in_window else "closed",
        ),
    }


def test_a_preview_answers_the_numbers_and_every_check_without_queueing(
    api: Api, simulator: Simulator, linked: tuple[str, str]
) -> None:
    simulator.set_price("EURUSD", 1.08500, 1.08510)
    _, account_id = linked
    _set_risk(api, account_id, maxRiskPerTradePercent=1)
    order = {
        "symbol": "EURUSD",
        "actionType": "ORDER_TYPE_BUY",
        "stopLoss": 1.08010,  # 50 pips of 10 dollars a lot: 500 a lot
        "takeProfit": 1.09510,  # 100 pips
        "sizing": {"mode": "risk_percent", "percent": 2, "of": "balance"},
    }

    answer = api.call("POST", f"{ACCOUNTS}/{account_id}/risk/preview", user="alice", body=order)

    preview = answer.body
    assert answer.status == 200, preview
    assert Decimal(str(preview["volume"])) == Decimal("0.4")  # 200 dollars at 500 a lot
    assert Decimal(str(preview["price"])) == Decimal("1.08510")
    assert Decimal(str(preview["lossAtStopLoss"])) == Decimal(200)
    assert Decimal(str(preview["profitAtTakeProfit"])) == Decimal(400)
    assert Decimal(str(preview["rewardRisk"])) == Decimal(2)
    assert preview["requiredMargin"] is not None
    assert preview["accepted"] is False  # 2% of equity over the limit of 1%
    failed = [check["code"] for check in preview["checks"] if not check["passed"]]
    assert failed == ["RISK_TRADE_RISK"]
    assert api.call("GET", f"{ACCOUNTS}/{account_id}/trades", user="alice").body["items"] == []

"""The executor against the MetaApi simulator: every trade ends in a final status with a reason,
and no fault makes it place an order twice (orders are counted in the simulator's own log)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from mtcore.accounts.access import get_metaapi_access
from mtcore.accounts.models import Account
from mtcore.accounts.repository import get_accounts_repository
from mtcore.metaapi.models import MetaApiTrade, TradeAction
from mtcore.trading.broker_truth import SENT
from mtcore.trading.executor import Done, Executor, ExecutorPolicy, Parked, RetrySoon, Step
from mtcore.trading.models import TradeKind, TradeRequest, TradeStatus
from mtcore.trading.repository import TransitionRefused, get_trades_repository
from mtcore.trading.sweeper import TIMER_GRACE, sweep_shard
from tests.integration.conftest import Api, Simulator, trades_log

# Short waits so the suite stays fast; the simulator's late execution uses real time.
FAST = ExecutorPolicy(settle_seconds=0.2, absent_for_seconds=2.5, recheck_seconds=0.5, short_wait_seconds=5)


@pytest.fixture
def account(api: Api, simulator: Simulator) -> Account:
    metaapi_id = simulator.account(metadata={"userId": "alice"})
    linked = api.call("POST", "/api/metatrader/accounts", user="alice", body={"metaapiAccountId": metaapi_id})
    return get_accounts_repository().get("alice", linked.body["id"])


def _executor(account: Account) -> Executor:
    return Executor(
        trades=get_trades_repository(),
        client=get_metaapi_access().for_account(account),
        remote=account.remote,
        policy=FAST,
    )


def _queue(account: Account, **fields: Any) -> TradeRequest:
    now = datetime.now(UTC)
    request = TradeRequest(
        account_id=account.id,
        user_id=account.user_id,
        kind=fields.pop("kind", TradeKind.OPEN),
        action=fields.pop("action", TradeAction.BUY),
        symbol=fields.pop("symbol", "EURUSD"),
        volume=fields.pop("volume", Decimal("0.1")),
        expires_at=fields.pop("expires_at", now + timedelta(seconds=60)),
        created_at=now,
        updated_at=now,
        **fields,
    )
    get_trades_repository().put_new(request)
    return request


def _drive(executor: Executor, request: TradeRequest, *, max_steps: int = 20) -> Step:
    """Deliver the request to the executor as the queue would, until it is done or parked."""
    for _ in range(max_steps):
        step = executor.run(request.account_id, request.id)
        if not isinstance(step, RetrySoon):
            return step
        time.sleep(step.seconds)
    raise AssertionError("the request never settled")


def _executed(simulator: Simulator, account: Account) -> list[dict[str, Any]]:
    return [entry for entry in trades_log(simulator, account.remote[0]) if entry["executed"]]


def test_a_market_buy_executes_once_with_its_story(simulator: Simulator, account: Account) -> None:
    request = _queue(account, comment="dashboard")

    step = _drive(_executor(account), request)

    assert isinstance(step, Done)
    final = step.request
    assert final.status is TradeStatus.EXECUTED
    assert final.broker is not None
    assert final.broker.string_code == "TRADE_RETCODE_DONE"
    assert final.broker.position_id
    assert [t.status for t in final.timeline] == [
        TradeStatus.QUEUED,
        TradeStatus.SENDING,
        TradeStatus.EXECUTED,
    ]
    assert final.attempts == 1
    log = trades_log(simulator, account.remote[0])
    assert len(log) == 1
    assert log[0]["body"]["clientId"] == request.client_id


@pytest.mark.parametrize("fault", ["disconnect_after_execute", "malformed"])
def test_an_executed_trade_without_a_clear_answer_is_found_not_resent(
    simulator: Simulator, account: Account, fault: str
) -> None:
    # The broker executes; the answer says the connection dropped, or cannot be read at all.
    simulator.fault(account.remote[0], "trade", fault)
    request = _queue(account)

    step = _drive(_executor(account), request)

    assert isinstance(step, Done)
    assert step.request.status is TradeStatus.EXECUTED
    assert "found open position" in (step.request.reason or "")
    assert len(trades_log(simulator, account.remote[0])) == 1


def test_a_late_execution_is_waited_for_not_doubled(simulator: Simulator, account: Account) -> None:
    simulator.fault(account.remote[0], "trade", "execute_late", delaySeconds=1)
    request = _queue(account)

    step = _drive(_executor(account), request)

    assert isinstance(step, Done)
    assert step.request.status is TradeStatus.EXECUTED
    assert len(trades_log(simulator, account.remote[0])) == 1
    assert len(simulator.sim_positions(account.remote[0])) == 1


def test_a_crash_after_the_broker_accepted_is_reconciled_on_redelivery(
    simulator: Simulator, account: Account
) -> None:
    request = _queue(account)
    trades = get_trades_repository()
    # Given the executor marked it SENDING, the broker executed it, and the executor died
    sending = trades.transition(
        request, TradeStatus.SENDING, expected={TradeStatus.QUEUED}, at=datetime.now(UTC)
    )
    get_metaapi_access().for_account(account).trade(
        account.remote,
        MetaApiTrade(
            action_type=TradeAction.BUY, symbol="EURUSD", volume=Decimal("0.1"), client_id=sending.client_id
        ),
    )

    # When the message is delivered again
    step = _drive(_executor(account), sending)

    # Then the request is settled from broker truth, with no second order
    assert isinstance(step, Done)
    assert step.request.status is TradeStatus.EXECUTED
    assert len(trades_log(simulator, account.remote[0])) == 1


def test_requotes_are_retried_until_one_order_executes(simulator: Simulator, account: Account) -> None:
    simulator.fault(account.remote[0], "trade", "requote", count=2)
    request = _queue(account)

    step = _drive(_executor(account), request)

    assert isinstance(step, Done)
    assert step.request.status is TradeStatus.EXECUTED
    assert step.request.attempts == 3
    assert len(_executed(simulator, account)) == 1


@pytest.mark.parametrize(
    ("kind", "code"),
    [("invalid_stops", "TRADE_RETCODE_INVALID_STOPS"), ("market_closed", "TRADE_RETCODE_MARKET_CLOSED")],
)
def test_a_final_refusal_is_rejected_with_code_and_reason(
    simulator: Simulator, account: Account, kind: str, code: str
) -> None:
    simulator.fault(account.remote[0], "trade", kind)

    step = _drive(_executor(account), _queue(account))

    assert isinstance(step, Done)
    assert step.request.status is TradeStatus.REJECTED
    assert step.request.broker is not None
    assert step.request.broker.string_code == code
    assert code in (step.request.reason or "")
    assert _executed(simulator, account) == []


def test_an_expired_order_is_never_sent(simulator: Simulator, account: Account) -> None:
    request = _queue(account, expires_at=datetime.now(UTC) - timedelta(seconds=1))

    step = _drive(_executor(account), request)

    assert isinstance(step, Done)
    assert step.request.status is TradeStatus.EXPIRED
    assert trades_log(simulator, account.remote[0]) == []


def test_a_long_rate_limit_parks_the_request_and_nothing_is_sent_early(
    simulator: Simulator, account: Account
) -> None:
    simulator.fault(account.remote[0], "trade", "http_429", retryAfterSeconds=30)
    request = _queue(account)
    executor = _executor(account)

    parked = executor.run(account.id, request.id)
    early = executor.run(account.id, request.id)

    assert isinstance(parked, Parked)
    assert parked.request.status is TradeStatus.WAITING
    assert 25 <= (parked.until - datetime.now(UTC)).total_seconds() <= 31
    assert isinstance(early, Parked)
    assert len(trades_log(simulator, account.remote[0])) == 1  # only the refused one


def test_closing_a_position_and_an_ambiguous_close(simulator: Simulator, account: Account) -> None:
    first = simulator.open_position(account.remote[0], volume=0.2)
    second = simulator.open_position(account.remote[0], volume=0.3)
    simulator.fault(account.remote[0], "trade", "disconnect_after_execute")

    ambiguous = _queue(
        account, kind=TradeKind.CLOSE, action=TradeAction.POSITION_CLOSE_ID, symbol=None, volume=None,
        position_id=first["id"], position_volume=Decimal("0.2"),
    )  # fmt: skip
    plain = _queue(
        account, kind=TradeKind.CLOSE, action=TradeAction.POSITION_CLOSE_ID, symbol=None, volume=None,
        position_id=second["id"], position_volume=Decimal("0.3"),
    )  # fmt: skip
    settled = [_drive(_executor(account), request) for request in (ambiguous, plain)]

    assert [step.request.status for step in settled if isinstance(step, Done)] == [TradeStatus.EXECUTED] * 2
    assert simulator.sim_positions(account.remote[0]) == []
    assert len(trades_log(simulator, account.remote[0])) == 2


def test_a_market_sell_executes_at_the_bid(simulator: Simulator, account: Account) -> None:
    simulator.set_price("EURUSD", 1.08500, 1.08512)
    request = _queue(account, action=TradeAction.SELL, volume=Decimal("0.3"))

    step = _drive(_executor(account), request)

    assert isinstance(step, Done)
    assert step.request.status is TradeStatus.EXECUTED
    positions = simulator.sim_positions(account.remote[0])
    assert [(p["type"], p["volume"], p["openPrice"]) for p in positions] == [
        ("POSITION_TYPE_SELL", 0.3, 1.085)
    ]


def _place_limit(simulator: Simulator, account: Account) -> str:
    """A resting buy limit at the broker; answers its order id."""
    simulator.set_price("EURUSD", 1.08500, 1.08510)
    step = _drive(
        _executor(account),
        _queue(account, kind=TradeKind.PLACE, action=TradeAction.BUY_LIMIT, open_price=Decimal("1.08000")),
    )
    assert isinstance(step, Done)
    assert step.request.status is TradeStatus.PLACED
    return step.request.broker.order_id if step.request.broker and step.request.broker.order_id else ""


AMBIGUOUS = pytest.mark.parametrize(
    "fault", [{"kind": "disconnect_after_execute"}, {"kind": "execute_late", "delaySeconds": 1}]
)


@AMBIGUOUS
def test_an_ambiguous_pending_order_is_found_by_its_client_id(
    simulator: Simulator, account: Account, fault: dict[str, Any]
) -> None:
    simulator.set_price("EURUSD", 1.08500, 1.08510)
    simulator.fault(account.remote[0], "trade", **fault)
    request = _queue(
        account, kind=TradeKind.PLACE, action=TradeAction.SELL_STOP, open_price=Decimal("1.08300")
    )

    step = _drive(_executor(account), request)

    assert isinstance(step, Done)
    assert step.request.status is TradeStatus.PLACED
    assert "found pending order" in (step.request.reason or "")
    assert len(trades_log(simulator, account.remote[0])) == 1


@AMBIGUOUS
def test_an_ambiguous_order_modify_is_confirmed_by_its_new_levels(
    simulator: Simulator, account: Account, fault: dict[str, Any]
) -> None:
    order_id = _place_limit(simulator, account)
    simulator.fault(account.remote[0], "trade", **fault)
    modify = _queue(
        account, kind=TradeKind.MODIFY_ORDER, action=TradeAction.ORDER_MODIFY, symbol=None, volume=None,
        order_id=order_id, open_price=Decimal("1.07900"), stop_loss=Decimal("1.078"), take_profit=Decimal(0),
    )  # fmt: skip

    step = _drive(_executor(account), modify)

    assert isinstance(step, Done)
    assert step.request.status is TradeStatus.EXECUTED
    assert "carries the new levels" in (step.request.reason or "")
    sent = [entry["body"]["actionType"] for entry in trades_log(simulator, account.remote[0])]
    assert sent == ["ORDER_TYPE_BUY_LIMIT", "ORDER_MODIFY"]


@AMBIGUOUS
def test_an_ambiguous_cancel_is_confirmed_by_the_order_gone(
    simulator: Simulator, account: Account, fault: dict[str, Any]
) -> None:
    order_id = _place_limit(simulator, account)
    simulator.fault(account.remote[0], "trade", **fault)
    cancel = _queue(
        account,
        kind=TradeKind.CANCEL,
        action=TradeAction.ORDER_CANCEL,
        symbol=None,
        volume=None,
        order_id=order_id,
    )

    step = _drive(_executor(account), cancel)

    assert isinstance(step, Done)
    assert step.request.status is TradeStatus.EXECUTED
    sent = [entry["body"]["actionType"] for entry in trades_log(simulator, account.remote[0])]
    assert sent == ["ORDER_TYPE_BUY_LIMIT", "ORDER_CANCEL"]


@AMBIGUOUS
def test_an_ambiguous_position_modify_and_partial_close_have_no_second_effect(
    simulator: Simulator, account: Account, fault: dict[str, Any]
) -> None:
    position = simulator.open_position(account.remote[0], volume=0.5)
    stop_loss = Decimal(str(position["openPrice"])) - Decimal("0.00500")
    simulator.fault(account.remote[0], "trade", **fault)
    modify = _queue(
        account, kind=TradeKind.MODIFY_POSITION, action=TradeAction.POSITION_MODIFY, symbol=None, volume=None,
        position_id=position["id"], stop_loss=stop_loss, take_profit=Decimal(0),
    )  # fmt: skip
    modified = _drive(_executor(account), modify)
    simulator.fault(account.remote[0], "trade", **fault)
    partial = _queue(
        account, kind=TradeKind.CLOSE, action=TradeAction.POSITION_PARTIAL, symbol=None,
        volume=Decimal("0.2"), position_id=position["id"], position_volume=Decimal("0.5"),
    )  # fmt: skip
    closed = _drive(_executor(account), partial)

    assert isinstance(modified, Done)
    assert isinstance(closed, Done)
    assert (modified.request.status, closed.request.status) == (TradeStatus.EXECUTED, TradeStatus.EXECUTED)
    at_broker = simulator.sim_positions(account.remote[0])
    assert [(Decimal(str(p["stopLoss"])), p["volume"]) for p in at_broker] == [(stop_loss, 0.3)]
    sent = [entry["body"]["actionType"] for entry in trades_log(simulator, account.remote[0])]
    assert sent == ["POSITION_MODIFY", "POSITION_PARTIAL"]


def test_an_ambiguous_sell_that_nets_into_a_buy_is_found_by_its_deal(api: Api, simulator: Simulator) -> None:
    metaapi_id = simulator.account(
        metadata={"userId": "alice"}, margin_mode="ACCOUNT_MARGIN_MODE_RETAIL_NETTING"
    )
    linked = api.call("POST", "/api/metatrader/accounts", user="alice", body={"metaapiAccountId": metaapi_id})
    account = get_accounts_repository().get("alice", linked.body["id"])
    simulator.open_position(metaapi_id, volume=0.5)
    simulator.fault(metaapi_id, "trade", "disconnect_after_execute")
    request = _queue(account, action=TradeAction.SELL, volume=Decimal("0.2"))

    step = _drive(_executor(account), request)

    assert isinstance(step, Done)
    assert step.request.status is TradeStatus.EXECUTED
    assert "found deal" in (step.request.reason or "")
    assert [p["volume"] for p in simulator.sim_positions(metaapi_id)] == [0.3]
    assert len(trades_log(simulator, metaapi_id)) == 1


def _close(account: Account, position: dict[str, Any], **fields: Any) -> TradeRequest:
    return _queue(
        account, kind=TradeKind.CLOSE, action=TradeAction.POSITION_CLOSE_ID, symbol=None, volume=None,
        position_id=position["id"], position_volume=Decimal(str(position["volume"])), expires_at=None,
        **fields,
    )  # fmt: skip


def test_a_send_that_times_out_leaves_the_look_at_its_outcome_its_own_time(
    simulator: Simulator, account: Account
) -> None:
    # The broker takes longer than the send may wait, then executes: the look still has time.
    simulator.fault(account.remote[0], "trade", "timeout", delaySeconds=1.5)
    policy = replace(FAST, send_budget_seconds=1.0, look_budget_seconds=3.0)
    executor = replace(_executor(account), policy=policy)

    step = _drive(executor, _queue(account))

    assert isinstance(step, Done)
    assert step.request.status is TradeStatus.EXECUTED
    assert any("no clear answer from MetaApi" in (t.note or "") for t in step.request.timeline)
    assert len(trades_log(simulator, account.remote[0])) == 1


def test_a_look_that_cannot_tell_is_tried_again_later_not_settled_unknown(
    simulator: Simulator, account: Account
) -> None:
    # The answer is lost, and the broker cannot be asked twice (each look reads with retries).
    simulator.fault(account.remote[0], "trade", "disconnect_after_execute")
    simulator.fault(account.remote[0], "positions", "http_500", count=8)

    step = _drive(_executor(account), _queue(account))

    assert isinstance(step, Done)
    assert step.request.status is TradeStatus.EXECUTED
    assert step.request.looks == 2
    assert [t.note for t in step.request.timeline if "looking again in" in (t.note or "")] != []
    assert len(trades_log(simulator, account.remote[0])) == 1


def test_a_broker_that_never_answers_makes_the_trade_unknown_after_a_bounded_number_of_looks(
    simulator: Simulator, account: Account
) -> None:
    simulator.fault(account.remote[0], "trade", "disconnect_after_execute")
    simulator.fault(account.remote[0], "positions", "http_500", count=1000)
    executor = replace(_executor(account), policy=replace(FAST, max_looks=3))

    step = _drive(executor, _queue(account))

    assert isinstance(step, Done)
    assert step.request.status is TradeStatus.UNKNOWN
    assert "3 times; the next full sync settles it" in (step.request.reason or "")
    assert len(trades_log(simulator, account.remote[0])) == 1


def test_a_later_look_that_waits_long_parks_the_request_with_the_sweeper_behind_the_timer(
    simulator: Simulator, account: Account
) -> None:
    simulator.fault(account.remote[0], "trade", "disconnect_after_execute")
    simulator.fault(account.remote[0], "positions", "http_500", count=1000)
    executor = replace(_executor(account), policy=replace(FAST, recheck_seconds=30))
    request = _queue(account)

    step = executor.run(account.id, request.id)
    early = executor.run(account.id, request.id)  # a duplicate delivery before it is due
    trades = get_trades_repository()

    assert isinstance(step, Parked)
    assert step.request.status is TradeStatus.SENDING
    assert 25 <= (step.until - datetime.now(UTC)).total_seconds() <= 31
    assert isinstance(early, Parked)
    assert trades.due_for_sweep(sweep_shard(account.id), datetime.now(UTC)) == []
    # The timer hands it back at `until`; the sweeper only after its grace.
    assert trades.due_for_sweep(sweep_shard(account.id), step.until + timedelta(seconds=1)) == []
    due = trades.due_for_sweep(sweep_shard(account.id), step.until + TIMER_GRACE)
    assert due == [(account.id, request.id)]
    assert len(trades_log(simulator, account.remote[0])) == 1


def test_a_stale_empty_position_list_neither_refuses_nor_confirms_a_close(
    simulator: Simulator, account: Account
) -> None:
    # The terminal's cached list is empty (reconnecting); the first send fails without executing.
    position = simulator.open_position(account.remote[0], volume=0.1)
    simulator.fault(account.remote[0], "positions", "empty_positions", count=10)
    simulator.fault(account.remote[0], "trade", "http_500")

    step = _drive(_executor(account), _close(account, position))

    assert isinstance(step, Done)
    assert step.request.status is TradeStatus.EXECUTED
    assert simulator.sim_positions(account.remote[0]) == []
    sent = [entry["body"]["actionType"] for entry in trades_log(simulator, account.remote[0])]
    assert sent == ["POSITION_CLOSE_ID", "POSITION_CLOSE_ID"]


def test_a_rate_limited_read_before_the_send_parks_the_request(
    simulator: Simulator, account: Account
) -> None:
    position = simulator.open_position(account.remote[0], volume=0.1)
    simulator.fault(account.remote[0], "positions", "http_429", retryAfterSeconds=30, count=10)
    executor = _executor(account)
    request = _close(account, position)

    parked = executor.run(account.id, request.id)

    assert isinstance(parked, Parked)
    assert parked.request.status is TradeStatus.WAITING
    assert 25 <= (parked.until - datetime.now(UTC)).total_seconds() <= 31
    assert trades_log(simulator, account.remote[0]) == []


def test_an_exit_is_retried_past_any_order_expiry_within_its_retry_window(
    simulator: Simulator, account: Account
) -> None:
    position = simulator.open_position(account.remote[0], volume=0.1)
    simulator.fault(account.remote[0], "trade", "http_429", retryAfterSeconds=1, count=2)

    closed = _drive(_executor(account), _close(account, position))
    other = simulator.open_position(account.remote[0], volume=0.1)
    simulator.fault(account.remote[0], "trade", "http_429", retryAfterSeconds=2)
    short_window = replace(_executor(account), policy=replace(FAST, retry_for_seconds=1))
    given_up = _drive(short_window, _close(account, other))

    assert isinstance(closed, Done)
    assert closed.request.status is TradeStatus.EXECUTED
    assert isinstance(given_up, Done)
    assert given_up.request.status is TradeStatus.REJECTED
    assert (given_up.request.reason or "").startswith("not executed within 1 s of being accepted")
    assert [p["id"] for p in simulator.sim_positions(account.remote[0])] == [other["id"]]


def test_a_close_all_waiting_on_a_parked_child_parks_instead_of_holding_the_group(
    simulator: Simulator, account: Account
) -> None:
    # A child whose later look is booked: its message comes back behind the parent's.
    position = simulator.open_position(account.remote[0], volume=0.1)
    child = _close(account, position)
    trades = get_trades_repository()
    sending = trades.transition(
        child, TradeStatus.SENDING, expected={TradeStatus.QUEUED}, at=datetime.now(UTC)
    )
    look_at = datetime.now(UTC) + timedelta(seconds=40)
    trades.transition(
        sending, TradeStatus.SENDING, expected={TradeStatus.SENDING}, at=datetime.now(UTC),
        changes={"not_before": look_at},
    )  # fmt: skip
    parent = _queue(
        account, kind=TradeKind.CLOSE_ALL, action=TradeAction.POSITION_CLOSE_ID, symbol=None, volume=None,
        children=[child.id], expires_at=None,
    )  # fmt: skip

    step = _executor(account).run(account.id, parent.id)

    assert isinstance(step, Parked)
    assert step.request.status is TradeStatus.WAITING
    assert step.until > look_at


def test_a_message_retried_shortly_many_times_parks_its_request_before_the_queue_gives_up(
    simulator: Simulator, account: Account
) -> None:
    position = simulator.open_position(account.remote[0], volume=0.1)
    simulator.fault(account.remote[0], "positions", "http_500", count=1000)
    request = _close(account, position)

    early = replace(_executor(account), deliveries=1).run(account.id, request.id)
    late = replace(_executor(account), deliveries=FAST.max_short_retries).run(account.id, request.id)

    assert isinstance(early, RetrySoon)
    assert isinstance(late, Parked)
    assert late.request.status is TradeStatus.WAITING
    assert get_trades_repository().due_for_sweep(sweep_shard(account.id), late.until + TIMER_GRACE) == [
        (account.id, request.id)
    ]
    assert trades_log(simulator, account.remote[0]) == []


def test_a_new_send_gets_every_look_again(simulator: Simulator, account: Account) -> None:
    request = _queue(account, looks=5, status=TradeStatus.WAITING)

    step = _drive(_executor(account), request)

    assert isinstance(step, Done)
    assert step.request.status is TradeStatus.EXECUTED
    assert step.request.looks == 0


def test_a_decision_on_a_stale_copy_of_a_request_is_refused(account: Account) -> None:
    request = _queue(account)
    trades = get_trades_repository()
    stale = trades.transition(
        request, TradeStatus.SENDING, expected={TradeStatus.QUEUED}, at=datetime.now(UTC)
    )
    # Someone else (the executor sending it again) moves it on, still SENDING
    trades.transition(
        stale, TradeStatus.SENDING, expected={TradeStatus.SENDING}, at=datetime.now(UTC), note=SENT
    )

    with pytest.raises(TransitionRefused):
        trades.transition(stale, TradeStatus.FAILED, expected={TradeStatus.SENDING}, at=datetime.now(UTC))

    assert trades.get(account.id, request.id).status is TradeStatus.SENDING

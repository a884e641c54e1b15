"""Scheduled and requested syncs: the due-time index, the scheduler's fan-out, the sync API and
the sync a trade sets off, with the real handlers, moto and the simulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from infra.local.queues import QueuePoller
from infra.local.resources import LocalResources
from mtcore.accounts.access import get_metaapi_access
from mtcore.accounts.schedule import get_sync_schedule_repository
from mtcore.aws import dynamodb_client
from mtcore.sync.queue import SyncQueue
from mtcore.sync.scheduler import SyncScheduler
from mtcore.sync.state import get_sync_state_repository
from tests.integration.conftest import MIDWEEK_NOON, PLATFORM_TOKEN, Api, Simulator

ACCOUNTS = "/api/metatrader/accounts"


def _link(api: Api, simulator: Simulator, user: str = "alice", **body: Any) -> tuple[str, str]:
    metaapi_id = simulator.account(metadata={"userId": user})
    account_id = api.call("POST", ACCOUNTS, user=user, body={"metaapiAccountId": metaapi_id, **body}).body[
        "id"
    ]
    return metaapi_id, account_id


def _sync_queue_url(aws: LocalResources) -> str:
    return next(
        url
        for logical, url in aws.names.items()
        if logical.startswith("SyncSyncs") and "DeadLetters" not in logical
    )


def _scheduler(aws: LocalResources, at: datetime) -> SyncScheduler:
    return SyncScheduler(
        schedule=get_sync_schedule_repository(),
        queue=SyncQueue(boto3.client("sqs"), _sync_queue_url(aws), jitter=lambda: 0),
        platform=get_metaapi_access().platform(),
        backoff_until=get_sync_state_repository().backoff_until,
        clock=lambda: at,
    )


def _queued(aws: LocalResources) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    bodies: list[dict[str, Any]] = []
    while True:
        answer = sqs.receive_message(
            QueueUrl=_sync_queue_url(aws), MaxNumberOfMessages=10, VisibilityTimeout=60
        )
        messages = answer.get("Messages", [])
        if not messages:
            return bodies
        bodies += [json.loads(message["Body"]) for message in messages]


def test_a_linked_account_is_due_after_its_interval_and_taken_once(
    api: Api, simulator: Simulator, aws: LocalResources
) -> None:
    _, account_id = _link(api, simulator, syncInterval=30)
    soon, later = datetime.now(UTC) + timedelta(seconds=5), datetime.now(UTC) + timedelta(seconds=31)

    early = _scheduler(aws, soon).tick()
    first = _scheduler(aws, later).tick()
    duplicate = _scheduler(aws, later).tick()  # the same schedule delivered twice

    assert (early.due, early.queued) == (0, 0)
    assert (first.due, first.queued) == (1, 1)
    assert (duplicate.due, duplicate.queued) == (0, 0)
    assert [(m["accountId"], m["type"], m["reason"]) for m in _queued(aws)] == [
        (account_id, "full", "schedule")
    ]


def test_only_deployed_accounts_that_sync_automatically_are_queued(
    api: Api, simulator: Simulator, aws: LocalResources
) -> None:
    _, synced = _link(api, simulator, syncInterval=10)
    undeployed_metaapi, _ = _link(api, simulator, syncInterval=10)
    _, manual = _link(api, simulator, syncInterval=10)
    api.call(
        "PUT",
        f"{ACCOUNTS}/{manual}",
        user="alice",
        body={"autoSyncPositions": False, "autoSyncOrders": False},
    )
    simulator.undeploy(undeployed_metaapi)

    tick = _scheduler(aws, datetime.now(UTC) + timedelta(seconds=11)).tick()

    assert (tick.due, tick.queued, tick.skipped) == (2, 1, 1)
    assert [m["accountId"] for m in _queued(aws)] == [synced]


def test_a_rate_limit_pauses_the_scheduler(api: Api, simulator: Simulator, aws: LocalResources) -> None:
    _link(api, simulator, syncInterval=10)
    until = datetime.now(UTC) + timedelta(minutes=5)
    get_sync_state_repository().back_off(until)

    tick = _scheduler(aws, datetime.now(UTC) + timedelta(seconds=11)).tick()

    assert (tick.queued, tick.backed_off_until) == (0, until)
    assert _queued(aws) == []


def test_a_scheduled_sync_that_finds_nothing_changed_writes_twice_in_all(
    api: Api, simulator: Simulator, aws: LocalResources, sync_poller: QueuePoller
) -> None:
    metaapi_id, account_id = _link(api, simulator, syncInterval=10)
    simulator.open_position(metaapi_id)
    _scheduler(aws, datetime.now(UTC) + timedelta(seconds=11)).tick()
    sync_poller.poll_once()  # the first sync stores the position
    written: list[tuple[str, str]] = []

    def count(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"):
            written.append((model.name, json.loads(params["body"]).get("Key", {}).get("sk", {}).get("S", "")))

    dynamodb_client().meta.events.register("before-call.dynamodb", count)
    try:
        tick = _scheduler(aws, datetime.now(UTC) + timedelta(seconds=22)).tick()
        handed = sync_poller.poll_once()
    finally:
        dynamodb_client().meta.events.unregister("before-call.dynamodb", count)

    assert (tick.queued, handed) == (1, 1)
    # The scheduler's claim (the sync's lease) and the sync's end, both on the account item
    assert written == [("UpdateItem", f"ACCOUNT#{account_id}")] * 2
    page = api.call("GET", f"{ACCOUNTS}/{account_id}/sync/logs", user="alice").body["items"]
    assert (page[0]["status"], page[0]["reason"], page[0]["runs"], page[0]["itemsSynced"]) == (
        "success",
        "schedule",
        1,
        0,
    )


def test_a_sync_asked_for_through_the_api_is_queued_run_and_logged(
    api: Api, simulator: Simulator, sync_poller: QueuePoller
) -> None:
    metaapi_id, account_id = _link(api, simulator)
    simulator.open_position(metaapi_id)

    asked = api.call("POST", f"{ACCOUNTS}/{account_id}/sync/full", user="alice")
    before = api.call("GET", f"{ACCOUNTS}/{account_id}/sync/{asked.body['syncId']}", user="alice").body
    sync_poller.poll_once()
    after = api.call(
        "GET", f"{ACCOUNTS}/{account_id}/sync/{asked.body['syncId']}", user="alice", query={"wait": "5"}
    )
    positions = api.call("POST", f"{ACCOUNTS}/{account_id}/positions/sync", user="alice")
    sync_poller.poll_once()
    logs = api.call("GET", f"{ACCOUNTS}/{account_id}/sync/logs", user="alice").body
    stored = api.call("GET", f"{ACCOUNTS}/{account_id}/positions", user="alice").body

    assert asked.status == 202
    assert asked.headers["Location"] == [f"{ACCOUNTS}/{account_id}/sync/{asked.body['syncId']}"]
    assert (before["status"], before["type"], before["reason"]) == ("queued", "full", "request")
    assert after.body["status"] == "success"
    assert after.body["durationMs"] >= 0
    assert [(log["syncId"], log["type"]) for log in logs["items"]] == [
        (positions.body["syncId"], "positions"),
        (asked.body["syncId"], "full"),
    ]
    assert len(stored) == 1


def test_another_users_sync_is_not_found(api: Api, simulator: Simulator) -> None:
    _, account_id = _link(api, simulator)
    asked = api.call("POST", f"{ACCOUNTS}/{account_id}/sync/orders", user="alice")

    theirs = api.call("GET", f"{ACCOUNTS}/{account_id}/sync/{asked.body['syncId']}", user="mallory")
    ask = api.call("POST", f"{ACCOUNTS}/{account_id}/sync/full", user="mallory")

    assert (theirs.status, ask.status) == (404, 404)


@pytest.mark.parametrize("path", ["sync/full", "sync/positions", "sync/orders", "positions/sync"])
def test_every_sync_route_answers_202_with_a_sync_id(api: Api, simulator: Simulator, path: str) -> None:
    _, account_id = _link(api, simulator)

    answer = api.call("POST", f"{ACCOUNTS}/{account_id}/{path}", user="alice")

    assert answer.status == 202
    assert len(answer.body["syncId"]) == 26


def test_an_executed_trade_sets_off_a_sync_that_records_its_deal(
    api: Api,
    simulator: Simulator,
    aws: LocalResources,
    executor_poller: QueuePoller,
    sync_poller: QueuePoller,
    event_listener: Callable[[], list[dict[str, Any]]],
) -> None:
    _, account_id = _link(api, simulator)
    order = {"symbol": "EURUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.1}
    api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=order)
    while executor_poller.poll_once():
        pass

    event_listener()  # the stream publisher runs, and asks for the sync
    sync_poller.poll_once()
    logs = api.call("GET", f"{ACCOUNTS}/{account_id}/sync/logs", user="alice").body["items"]

    assert [(log["reason"], log["type"], log["status"]) for log in logs] == [("trade", "full", "success")]


def test_history_reads_the_store_and_imports_an_older_range_in_the_background(
    api: Api, simulator: Simulator, sync_poller: QueuePoller
) -> None:
    metaapi_id, account_id = _link(api, simulator)
    position = simulator.open_position(metaapi_id)
    simulator.session.post(
        f"{simulator.url}/users/current/accounts/{metaapi_id}/trade",
        headers={"auth-token": PLATFORM_TOKEN},
        json={"actionType": "POSITION_CLOSE_ID", "positionId": position["id"]},
        timeout=5,
    )
    # The simulator's clock starts at a recent midweek noon; its account opened with a deposit then.
    week_start = datetime.fromtimestamp(MIDWEEK_NOON, UTC).replace(hour=0) - timedelta(days=3)
    until = f"{datetime.now(UTC) + timedelta(minutes=1):%Y-%m-%dT%H:%M:00Z}"
    week = {"from": f"{week_start:%Y-%m-%dT%H:%M:%SZ}", "to": until}
    older = {"from": f"{week_start - timedelta(days=75):%Y-%m-%dT%H:%M:%SZ}", "to": until}

    before_any_sync = api.call("GET", f"{ACCOUNTS}/{account_id}/history", user="alice", query=week).body
    while sync_poller.poll_once():
        pass
    imported = api.call("GET", f"{ACCOUNTS}/{account_id}/history", user="alice", query=week).body
    wider = api.call("GET", f"{ACCOUNTS}/{account_id}/history", user="alice", query=older).body
    same_again = api.call("GET", f"{ACCOUNTS}/{account_id}/history", user="alice", query=older).body
    orders = api.call(
        "GET", f"{ACCOUNTS}/{account_id}/history", user="alice", query={**week, "type": "orders"}
    ).body
    bad = api.call(
        "GET",
        f"{ACCOUNTS}/{account_id}/history",
        user="alice",
        query={"from": week["to"], "to": week["from"]},
    )

    assert before_any_sync["items"] == []
    assert before_any_sync["importing"]["status"] == "queued"
    assert sorted(deal["entryType"] for deal in imported["items"]) == [
        "DEAL_ENTRY_IN",
        "DEAL_ENTRY_IN",
        "DEAL_ENTRY_OUT",
    ]
    assert imported["importing"] is None
    assert imported["coveredFrom"] == week["from"]
    assert wider["importing"]["type"] == "history"
    assert same_again["importing"]["syncId"] == wider["importing"]["syncId"]  # one import, not two
    assert [order["type"] for order in orders["items"]] == ["ORDER_TYPE_SELL", "ORDER_TYPE_BUY"]
    assert bad.status == 422


def test_history_without_a_range_answers_the_last_30_days(
    api: Api, simulator: Simulator, sync_poller: QueuePoller
) -> None:
    metaapi_id, account_id = _link(api, simulator)
    simulator.open_position(metaapi_id)
    asked = api.call("POST", f"{ACCOUNTS}/{account_id}/sync/full", user="alice").body
    while sync_poller.poll_once():
        pass
    assert api.call("GET", f"{ACCOUNTS}/{account_id}/sync/{asked['syncId']}", user="alice").body[
        "status"
    ] == ("success")

    plain = api.call("GET", f"{ACCOUNTS}/{account_id}/history", user="alice")
    ranged = api.call(
        "GET",
        f"{ACCOUNTS}/{account_id}/history",
        user="alice",
        query={
            "from": f"{datetime.now(UTC) - timedelta(days=30, minutes=1):%Y-%m-%dT%H:%M:%SZ}",
            "to": f"{datetime.now(UTC) + timedelta(minutes=1):%Y-%m-%dT%H:%M:%SZ}",
        },
    )

    assert plain.status == 200
    assert plain.body["items"]
    assert plain.body["items"] == ranged.body["items"]
    assert plain.body["importing"] is None  # a first full sync stores the last 30 days

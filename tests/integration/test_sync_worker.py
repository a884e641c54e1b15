"""The sync worker against moto and the MetaApi simulator: it writes only what changed, never
closes what the broker did not close, ignores older reads, and leaves a log of every run.
DynamoDB writes are counted on the client itself, by the sort keys they touch."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import boto3
import pytest

from mtcore.accounts.access import get_metaapi_access
from mtcore.accounts.models import Account
from mtcore.accounts.repository import get_accounts_repository
from mtcore.aws import dynamodb_client
from mtcore.metaapi.client import MetaApiClient
from mtcore.metaapi.models import MetaApiTrade, Order, Position, TradeAction
from mtcore.portfolio.history import get_history_repository
from mtcore.portfolio.open_items import get_orders_repository, get_positions_repository
from mtcore.settings import get_settings
from mtcore.store.codec import from_item
from mtcore.sync.models import SyncLog, SyncMessage, SyncReason, SyncStatus, SyncType
from mtcore.sync.queue import get_sync_queue
from mtcore.sync.reading import SyncPolicy
from mtcore.sync.state import get_sync_state_repository
from mtcore.sync.worker import SyncBackedOff, SyncBusy, SyncWorker, get_sync_worker
from tests.integration.conftest import Api, Simulator

Clock = Callable[[], datetime]
ItemT = TypeVar("ItemT", Position, Order)
_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


@pytest.fixture
def account(api: Api, simulator: Simulator) -> Account:
    # Prices held still: an unchanged account is then unchanged to the last digit of its profit.
    simulator.set_price("EURUSD", 1.085, 1.0851)
    metaapi_id = simulator.account(metadata={"userId": "alice"})
    linked = api.call("POST", "/api/metatrader/accounts", user="alice", body={"metaapiAccountId": metaapi_id})
    return get_accounts_repository().get("alice", linked.body["id"])


@pytest.fixture
def clock() -> Clock:
    return lambda: datetime.now(UTC)


# The simulator's market clock runs days behind ours: a first sync reads all its history.
ALL_HISTORY = SyncPolicy(first_history=timedelta(days=3650))


def _worker(clock: Clock) -> SyncWorker:
    return SyncWorker(
        state=get_sync_state_repository(),
        accounts=get_accounts_repository(),
        positions=get_positions_repository(),
        orders=get_orders_repository(),
        history=get_history_repository(),
        metaapi=get_metaapi_access().for_account,
        clock=clock,
        policy=ALL_HISTORY,
    )


@pytest.fixture
def worker(clock: Clock) -> SyncWorker:
    return _worker(clock)


@dataclass
class Writes:
    """Items written through the container's DynamoDB client, by sort key."""

    keys: list[str] = field(default_factory=list)

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name in _WRITES:
            self.keys += _sort_keys(model.name, json.loads(params["body"]))

    def to(self, *prefixes: str) -> list[str]:
        return [key for key in self.keys if key.startswith(prefixes)]

    def clear(self) -> None:
        self.keys.clear()


def _sort_keys(operation: str, body: dict[str, Any]) -> list[str]:
    if operation == "PutItem":
        return [body["Item"]["sk"]["S"]]
    if operation in ("UpdateItem", "DeleteItem"):
        return [body["Key"]["sk"]["S"]]
    if operation == "BatchWriteItem":
        requests = [request for batch in body["RequestItems"].values() for request in batch]
        return [_written(next(iter(request.values()))) for request in requests]
    return [_written(next(iter(entry.values()))) for entry in body["TransactItems"]]


def _written(request: dict[str, Any]) -> str:
    sort_key: str = (request.get("Item") or request["Key"])["sk"]["S"]
    return sort_key


@pytest.fixture
def writes(aws: Any) -> Iterator[Writes]:
    counter = Writes()
    events = dynamodb_client().meta.events
    events.register("before-call.dynamodb", counter, unique_id="count-writes")
    yield counter
    events.unregister("before-call.dynamodb", unique_id="count-writes")


def _client(account: Account) -> MetaApiClient:
    return get_metaapi_access().for_account(account)


def _trade(account: Account, **fields: Any) -> str:
    result = _client(account).trade(account.remote, MetaApiTrade(**fields))
    assert result.string_code in ("TRADE_RETCODE_DONE", "TRADE_RETCODE_PLACED"), result
    return str(result.position_id or result.order_id)


def _buy(account: Account, client_id: str = "sync-test") -> str:
    return _trade(
        account, action_type=TradeAction.BUY, symbol="EURUSD", volume=Decimal("0.1"), client_id=client_id
    )


def _broker_positions(account: Account) -> list[Position]:
    return _client(account).positions(account.remote)


def _broker_orders(account: Account) -> list[Order]:
    return _client(account).orders(account.remote)


def _broker_deals(account: Account) -> list[dict[str, Any]]:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    end = datetime(2100, 1, 1, tzinfo=UTC)
    return _client(account).history_deals(account.remote, start, end)


def _sync(worker: SyncWorker, account: Account, kind: SyncType = SyncType.FULL) -> SyncLog:
    return worker.run(SyncMessage(account_id=account.id, type=kind))


def _account_item(account: Account) -> dict[str, Any]:
    answer = boto3.client("dynamodb").get_item(
        TableName=get_settings().table_name,
        Key={"pk": {"S": f"USER#{account.user_id}"}, "sk": {"S": f"ACCOUNT#{account.id}"}},
    )
    return from_item(answer["Item"])


def _by_id(items: list[ItemT]) -> dict[str, ItemT]:
    return {item.id: item for item in items}


def test_a_first_sync_stores_the_account_positions_orders_and_history(
    simulator: Simulator, account: Account, worker: SyncWorker
) -> None:
    _buy(account)
    order_id = _trade(
        account,
        action_type=TradeAction.BUY_LIMIT,
        symbol="EURUSD",
        volume=Decimal("0.2"),
        open_price=Decimal("1.07"),
    )

    log = _sync(worker, account)

    assert (log.status, log.items_failed, log.error_message) == (SyncStatus.SUCCESS, 0, None)
    assert log.connection_status == "CONNECTED"
    assert not log.disconnection_started
    stored_positions = get_positions_repository().list_open(account.id)
    assert _by_id(stored_positions) == _by_id(_broker_positions(account))
    assert [order.id for order in get_orders_repository().list_open(account.id)] == [order_id]
    deals, _ = get_history_repository().list_deals(account.id, limit=100, next_token=None)
    assert {deal.id for deal in deals} == {deal["id"] for deal in _broker_deals(account)}
    # the position, the order, the deposit and the buy's deals, the buy's history order, the account
    assert log.items_synced == 1 + 1 + 2 + 1 + 1
    synced = get_accounts_repository().get("alice", account.id)
    information = _client(account).account_information(account.remote)
    assert (synced.balance, synced.equity, synced.margin, synced.free_margin) == (
        information.balance,
        information.equity,
        information.margin,
        information.free_margin,
    )
    assert (synced.connection_status, synced.state, synced.currency) == ("CONNECTED", "DEPLOYED", "USD")
    assert synced.last_sync_at is not None
    stored = _account_item(account)
    newest_deal = max(datetime.fromisoformat(deal["time"]) for deal in _broker_deals(account))
    assert datetime.fromisoformat(stored["dealsCursor"]) == newest_deal
    assert "syncLeaseOwner" not in stored
    assert stored["syncFailures"] == 0


def test_a_manual_position_is_stored_with_its_reason_and_no_client_id(
    simulator: Simulator, account: Account, worker: SyncWorker
) -> None:
    by_hand = simulator.open_position(account.remote[0])
    ours = _buy(account, client_id="ours-1")

    _sync(worker, account, SyncType.POSITIONS)

    stored = _by_id(get_positions_repository().list_open(account.id))
    assert (stored[by_hand["id"]].client_id, stored[by_hand["id"]].reason) == (None, "POSITION_REASON_CLIENT")
    assert (stored[ours].client_id, stored[ours].reason) == ("ours-1", "POSITION_REASON_EXPERT")


def test_an_unchanged_account_writes_no_position_or_order(
    account: Account, worker: SyncWorker, writes: Writes
) -> None:
    _buy(account)
    _trade(
        account,
        action_type=TradeAction.SELL_LIMIT,
        symbol="EURUSD",
        volume=Decimal("0.1"),
        open_price=Decimal("1.1"),
    )
    _sync(worker, account)
    writes.clear()

    log = _sync(worker, account)

    assert log.status is SyncStatus.SUCCESS
    assert log.items_synced == 0
    # The lease and the end of the sync, both on the account item; the log is kept there too
    assert writes.keys == [f"ACCOUNT#{account.id}"] * 2
    assert get_sync_state_repository().get_log(account, log.sync_id) == log


def test_unchanged_scheduled_syncs_are_one_log_entry_until_a_sync_changes_something(
    account: Account, worker: SyncWorker
) -> None:
    _sync(worker, account)
    quiet = [_sync(worker, account) for _ in range(3)]
    logs = get_sync_state_repository()

    page, _ = logs.list_logs(account, limit=10, next_token=None)
    assert [(entry.sync_id, entry.runs) for entry in page[:1]] == [(quiet[-1].sync_id, 3)]
    assert (page[0].started_at, page[0].finished_at) == (quiet[0].started_at, quiet[-1].finished_at)
    first, token = logs.list_logs(account, limit=1, next_token=None)
    rest, _ = logs.list_logs(account, limit=10, next_token=token)
    assert [entry.sync_id for entry in first + rest] == [entry.sync_id for entry in page]

    _buy(account)
    changed = _sync(worker, account)

    page, _ = logs.list_logs(account, limit=10, next_token=None)
    assert [(entry.sync_id, entry.runs) for entry in page[:2]] == [
        (changed.sync_id, 1),
        (quiet[-1].sync_id, 3),
    ]
    assert "quietSyncs" not in _account_item(account)


def test_a_full_sync_reads_in_two_rounds_of_calls_side_by_side(
    simulator: Simulator, account: Account, worker: SyncWorker
) -> None:
    _buy(account)
    _sync(worker, account)
    # Each call held long enough that calls sent together are seen in flight together.
    simulator.set_latency(0.3)

    log = _sync(worker, account)

    # The lists and the history since the cursors together, then the connection state.
    assert simulator.peak_in_flight() == 5
    assert log.status is SyncStatus.SUCCESS


def test_a_changed_stop_loss_is_one_position_write(
    account: Account, worker: SyncWorker, writes: Writes
) -> None:
    position_id = _buy(account)
    _buy(account, client_id="another")
    _sync(worker, account)
    _trade(
        account, action_type=TradeAction.POSITION_MODIFY, position_id=position_id, stop_loss=Decimal("1.08")
    )
    writes.clear()

    log = _sync(worker, account, SyncType.POSITIONS)

    assert writes.to("POS#") == [f"POS#OPEN#{position_id}"]
    assert get_positions_repository().get_open(account.id, position_id).stop_loss == Decimal("1.08")
    assert log.items_synced == 1


def test_a_close_at_the_broker_moves_the_position_to_closed_with_its_deals_profit(
    simulator: Simulator, account: Account, worker: SyncWorker
) -> None:
    position_id = _buy(account)
    _sync(worker, account)
    simulator.set_price("EURUSD", 1.0873, 1.0874)
    _trade(account, action_type=TradeAction.POSITION_CLOSE_ID, position_id=position_id)

    log = _sync(worker, account, SyncType.POSITIONS)

    assert log.status is SyncStatus.SUCCESS
    assert get_positions_repository().list_open(account.id) == []
    closed, _ = get_history_repository().list_closed(account.id, limit=10, next_token=None)
    closing = next(
        deal
        for deal in _broker_deals(account)
        if deal.get("positionId") == position_id and deal["entryType"] == "DEAL_ENTRY_OUT"
    )
    assert [position.id for position in closed] == [position_id]
    assert closed[0].profit == closing["profit"] == Decimal("22")
    assert (closed[0].close_price, closed[0].closing_deal_ids) == (Decimal("1.0873"), [closing["id"]])
    assert closed[0].close_time == datetime.fromisoformat(closing["time"])
    assert closed[0].client_id == "sync-test"
    assert (closed[0].swap, closed[0].commission) == (Decimal(0), Decimal(0))


def test_a_reconnecting_terminal_closes_nothing(
    simulator: Simulator, account: Account, worker: SyncWorker
) -> None:
    position_id = _buy(account)
    _sync(worker, account)
    # Armed for two reads, it still shows the account reconnecting after the first has answered [].
    simulator.fault(account.remote[0], "positions", "empty_positions", count=2)

    log = _sync(worker, account)

    assert (log.status, log.connection_status, log.disconnection_started) == (
        SyncStatus.PARTIAL,
        "DISCONNECTED",
        True,
    )
    assert "left as they were" in (log.error_message or "")
    assert [p.id for p in get_positions_repository().list_open(account.id)] == [position_id]
    assert "disconnectedSince" in _account_item(account)
    assert get_accounts_repository().get("alice", account.id).connection_status == "DISCONNECTED"

    again = _sync(worker, account)  # the second read answers [] too: still the same episode

    assert (again.status, again.disconnection_started) == (SyncStatus.PARTIAL, False)
    assert [p.id for p in get_positions_repository().list_open(account.id)] == [position_id]

    back = _sync(worker, account)

    assert (back.status, back.connection_status, back.disconnection_started) == (
        SyncStatus.SUCCESS,
        "CONNECTED",
        False,
    )
    assert "disconnectedSince" not in _account_item(account)
    assert [p.id for p in get_positions_repository().list_open(account.id)] == [position_id]


def test_a_position_missing_without_its_closing_deal_stays_open_for_another_look(
    simulator: Simulator, account: Account, worker: SyncWorker
) -> None:
    position_id = _buy(account)
    _sync(worker, account)
    # Once only: the account then looks connected, and only the missing deal keeps the position.
    simulator.fault(account.remote[0], "positions", "empty_positions")

    log = _sync(worker, account, SyncType.POSITIONS)

    assert (log.status, log.items_failed) == (SyncStatus.PARTIAL, 1)
    assert f"position {position_id}" in (log.error_message or "")
    assert [p.id for p in get_positions_repository().list_open(account.id)] == [position_id]
    assert _account_item(account)["syncNeedsLook"] is True

    assert _sync(worker, account).status is SyncStatus.SUCCESS
    assert _account_item(account)["syncNeedsLook"] is False


def test_an_older_snapshot_processed_after_a_newer_one_is_ignored(
    account: Account, worker: SyncWorker, clock: Clock
) -> None:
    position_id = _buy(account)
    newer = _sync(worker, account)
    _trade(
        account, action_type=TradeAction.POSITION_MODIFY, position_id=position_id, stop_loss=Decimal("1.08")
    )
    assert newer.started_at is not None
    read_before_the_newer_one = newer.started_at - timedelta(seconds=1)
    synced_at = get_accounts_repository().get("alice", account.id).last_sync_at

    older = _sync(_worker(lambda: read_before_the_newer_one), account)

    assert older.items_synced == 0
    assert get_positions_repository().get_open(account.id, position_id).stop_loss is None
    assert get_accounts_repository().get("alice", account.id).last_sync_at == synced_at

    _sync(worker, account)

    assert get_positions_repository().get_open(account.id, position_id).stop_loss == Decimal("1.08")


def test_two_workers_on_one_account_sync_it_once_and_store_the_brokers_state(
    simulator: Simulator, account: Account, worker: SyncWorker
) -> None:
    _buy(account)
    _sync(worker, account)
    _buy(account, client_id="second")
    # The first worker's reads answer slowly, so it still holds the lease when the second starts.
    simulator.fault(account.remote[0], "positions", "timeout", delaySeconds=1)
    first: list[SyncLog] = []
    thread = threading.Thread(target=lambda: first.append(_sync(worker, account)))
    thread.start()
    deadline = time.monotonic() + 5
    while "syncLeaseOwner" not in _account_item(account) and time.monotonic() < deadline:
        time.sleep(0.02)

    with pytest.raises(SyncBusy):
        _sync(worker, account)
    thread.join()

    assert first[0].status is SyncStatus.SUCCESS
    assert _by_id(get_positions_repository().list_open(account.id)) == _by_id(_broker_positions(account))
    assert "syncLeaseOwner" not in _account_item(account)


def test_a_rate_limit_backs_off_every_sync(
    simulator: Simulator, account: Account, worker: SyncWorker, clock: Clock
) -> None:
    simulator.fault(account.remote[0], "positions", "http_429", retryAfterSeconds=30)

    log = _sync(worker, account)

    assert log.status is SyncStatus.ERROR
    assert "RATE_LIMITED" in (log.error_message or "")
    until = get_sync_state_repository().backoff_until()
    assert until is not None
    assert timedelta(seconds=25) < until - clock() <= timedelta(seconds=31)
    assert _account_item(account)["syncFailures"] == 0  # MetaApi's limit is no fault of the account's
    with pytest.raises(SyncBackedOff) as backed_off:
        _sync(worker, account)
    assert backed_off.value.until == until
    assert get_sync_state_repository().get_log(account, log.sync_id).status is SyncStatus.ERROR


def test_failures_back_off_the_account_and_a_success_clears_them(
    simulator: Simulator, account: Account, worker: SyncWorker, clock: Clock
) -> None:
    # A 500 is retried three times by the client; four of them fail the sync.
    simulator.fault(account.remote[0], "account-information", "http_500", count=8)

    first, second = _sync(worker, account), _sync(worker, account)

    assert (first.status, second.status) == (SyncStatus.ERROR, SyncStatus.ERROR)
    stored = _account_item(account)
    assert stored["syncFailures"] == 2
    assert "UPSTREAM_UNAVAILABLE" in stored["syncError"]
    backoff = datetime.fromisoformat(stored["syncBackoffUntil"]) - clock()
    assert timedelta(seconds=110) < backoff <= timedelta(seconds=120)

    assert _sync(worker, account).status is SyncStatus.SUCCESS
    stored = _account_item(account)
    assert (stored["syncFailures"], "syncError" in stored, "syncBackoffUntil" in stored) == (0, False, False)


def test_a_timeout_is_a_failure_and_the_next_sync_recovers(
    simulator: Simulator, account: Account, clock: Clock, new_container: Callable[[str, str], None]
) -> None:
    new_container("METAAPI_REQUEST_BUDGET_S", "1")
    worker = _worker(clock)
    simulator.fault(account.remote[0], "positions", "timeout", delaySeconds=2)

    log = _sync(worker, account)

    assert log.status is SyncStatus.ERROR
    assert "UPSTREAM_TIMEOUT" in (log.error_message or "")
    stored = _account_item(account)
    assert stored["syncFailures"] == 1
    backoff = datetime.fromisoformat(stored["syncBackoffUntil"]) - clock()
    assert timedelta(seconds=50) < backoff <= timedelta(seconds=60)

    assert _sync(worker, account).status is SyncStatus.SUCCESS
    assert _account_item(account)["syncFailures"] == 0


def test_history_we_cannot_read_is_a_failure_and_the_next_sync_recovers(
    simulator: Simulator, account: Account, worker: SyncWorker
) -> None:
    simulator.fault(account.remote[0], "history-deals", "malformed")

    log = _sync(worker, account)

    assert log.status is SyncStatus.ERROR
    assert "UPSTREAM_MALFORMED" in (log.error_message or "")
    assert _account_item(account)["syncFailures"] == 1
    assert _sync(worker, account).status is SyncStatus.SUCCESS


def test_deals_are_stored_once_across_overlapping_syncs(
    account: Account, worker: SyncWorker, writes: Writes
) -> None:
    position_id = _buy(account)
    _trade(account, action_type=TradeAction.POSITION_CLOSE_ID, position_id=position_id)
    _buy(account, client_id="open")
    _sync(worker, account)
    writes.clear()

    _sync(worker, account)

    deals, _ = get_history_repository().list_deals(account.id, limit=100, next_token=None)
    broker = _broker_deals(account)
    assert sorted(deal.id for deal in deals) == sorted(deal["id"] for deal in broker)
    assert len(broker) == 4  # the deposit, the first buy in and out, the second buy
    assert writes.to("DEAL#", "HORDER#") == []
    # A new deal is added once, however many overlapping syncs read it.
    _buy(account, client_id="later")
    _sync(worker, account)
    _sync(worker, account)
    deals, _ = get_history_repository().list_deals(account.id, limit=100, next_token=None)
    assert len(deals) == len({deal.id for deal in deals}) == 5


def test_a_canceled_order_leaves_the_store_once_its_history_order_exists(
    account: Account, worker: SyncWorker
) -> None:
    order_id = _trade(
        account,
        action_type=TradeAction.BUY_LIMIT,
        symbol="EURUSD",
        volume=Decimal("0.1"),
        open_price=Decimal("1.07"),
    )
    _sync(worker, account, SyncType.ORDERS)
    assert [order.id for order in get_orders_repository().list_open(account.id)] == [order_id]
    _trade(account, action_type=TradeAction.ORDER_CANCEL, order_id=order_id)

    log = _sync(worker, account, SyncType.ORDERS)

    assert (log.status, log.items_synced) == (SyncStatus.SUCCESS, 2)  # the removal and the history order
    assert get_orders_repository().list_open(account.id) == []
    horders = boto3.client("dynamodb").query(
        TableName=get_settings().table_name,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": f"ACCOUNT#{account.id}"}, ":prefix": {"S": "HORDER#"}},
    )["Items"]
    assert [(item["id"]["S"], item["state"]["S"]) for item in horders] == [(order_id, "ORDER_STATE_CANCELED")]


def test_a_read_from_before_sync_closed_a_position_or_order_never_brings_it_back(
    account: Account, worker: SyncWorker
) -> None:
    # Given a live read (a trade's refresh, a ?live=true call) taken while both were open…
    position_id = _buy(account)
    order_id = _trade(
        account,
        action_type=TradeAction.BUY_LIMIT,
        symbol="EURUSD",
        volume=Decimal("0.1"),
        open_price=Decimal("1.07"),
    )
    read_at = datetime.now(UTC)
    positions_then, orders_then = _broker_positions(account), _broker_orders(account)
    _sync(worker, account)
    # …and sync recording the close and the cancel that happened next
    _trade(account, action_type=TradeAction.POSITION_CLOSE_ID, position_id=position_id)
    _trade(account, action_type=TradeAction.ORDER_CANCEL, order_id=order_id)
    _sync(worker, account)
    assert get_positions_repository().list_open(account.id) == []

    # When the old read is written late
    written = [
        get_positions_repository().store_open(account.id, positions_then, [], read_at=read_at),
        get_orders_repository().store_open(account.id, orders_then, [], read_at=read_at),
    ]

    # Then nothing comes back
    assert written == [0, 0]
    assert get_positions_repository().list_open(account.id) == []
    assert get_orders_repository().list_open(account.id) == []
    closed, _ = get_history_repository().list_closed(account.id, limit=10, next_token=None)
    assert [position.id for position in closed] == [position_id]


def test_an_account_information_sync_updates_only_the_account(
    account: Account, worker: SyncWorker, writes: Writes
) -> None:
    _buy(account)

    log = _sync(worker, account, SyncType.ACCOUNT_INFO)

    assert (log.status, log.items_synced) == (SyncStatus.SUCCESS, 1)
    assert writes.to("POS#", "ORDER#", "DEAL#", "HORDER#") == []
    assert get_accounts_repository().get("alice", account.id).margin == Decimal("108.51")


def test_every_run_leaves_a_log_listed_newest_first(account: Account) -> None:
    worker = get_sync_worker()
    logs = get_sync_state_repository()
    asked = SyncMessage(account_id=account.id, type=SyncType.POSITIONS, reason=SyncReason.REQUEST)
    logs.queue_log(
        SyncLog(
            sync_id=asked.sync_id,
            account_id=account.id,
            type=asked.type,
            reason=asked.reason,
            status=SyncStatus.RUNNING,
        )
    )
    assert logs.get_log(account, asked.sync_id).status is SyncStatus.QUEUED

    _buy(account)
    ran = worker.run(asked)
    later = _sync(worker, account)
    latest = _sync(worker, account, SyncType.ORDERS)

    stored = logs.get_log(account, asked.sync_id)
    assert stored == ran
    assert (stored.status, stored.reason, stored.items_synced, stored.items_failed) == (
        SyncStatus.SUCCESS,
        SyncReason.REQUEST,
        1,
        0,
    )
    assert stored.duration_ms is not None
    assert stored.started_at is not None
    assert stored.finished_at is not None
    assert stored.duration_ms == round((stored.finished_at - stored.started_at).total_seconds() * 1000)
    page, token = logs.list_logs(account, limit=2, next_token=None)
    assert [log.sync_id for log in page] == [latest.sync_id, later.sync_id]
    rest, end = logs.list_logs(account, limit=2, next_token=token)
    assert ([log.sync_id for log in rest], end) == ([ran.sync_id], None)
    raw = boto3.client("dynamodb").get_item(
        TableName=get_settings().table_name,
        Key={"pk": {"S": f"ACCOUNT#{account.id}"}, "sk": {"S": f"SYNCLOG#{ran.sync_id}"}},
    )["Item"]
    assert int(raw["ttl"]["N"]) == int((stored.finished_at + timedelta(days=30)).timestamp())


def test_trade_syncs_in_one_batch_cost_one_sync_of_the_account(account: Account, sync_poller: Any) -> None:
    """Every message of a batch was sent before its first sync started, so that sync has read
    what each of the account's trades changed; a sync asked for through the API still runs."""
    _buy(account)
    queue = get_sync_queue()
    trades = [SyncMessage(account_id=account.id, user_id="alice", reason=SyncReason.TRADE) for _ in range(3)]
    asked = SyncMessage(account_id=account.id, user_id="alice", reason=SyncReason.REQUEST)
    for message in [*trades, asked]:
        queue.send(message)

    assert sync_poller.poll_once() == 4

    logs, _ = get_sync_state_repository().list_logs(account, limit=10, next_token=None)
    assert sorted(log.sync_id for log in logs) == sorted([trades[0].sync_id, asked.sync_id])
    assert {log.status for log in logs} == {SyncStatus.SUCCESS}
    assert _sqs_depth(queue_url=get_settings().sync_queue_url) == 0, "the covered messages are done"


def _sqs_depth(queue_url: str | None) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url or "",
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())

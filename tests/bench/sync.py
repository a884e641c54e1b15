"""Sync figures in-process: moto, the MetaApi simulator answering at once, the real worker and
scheduler. Accounts and positions are set up in the simulator directly (not over HTTP): the set-up
is not what is measured."""

from __future__ import annotations

import os
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import boto3

from infra.local.fast_moto import queries_read_one_partition
from infra.local.metaapi_sim.admin import open_position_by_hand
from mtcore.sync.models import SyncMessage, SyncReason, SyncType
from tests.bench.calls import _environment

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "BTCUSD")


def _linked_accounts(api: Any, simulator: Any, count: int, positions: int) -> list[str]:
    from tests.integration.conftest import PLATFORM_TOKEN

    ids = []
    for _ in range(count):
        metaapi_id = simulator.create_account(
            PLATFORM_TOKEN, metadata={"userId": "alice"}, balance=Decimal(10_000_000)
        )
        account = simulator._accounts[metaapi_id]
        for number in range(positions):
            body = {
                "symbol": SYMBOLS[number % len(SYMBOLS)],
                "type": "POSITION_TYPE_BUY",
                "volume": Decimal("0.01"),
            }
            open_position_by_hand(account, body)
        answer = api.call(
            "POST", "/api/metatrader/accounts", user="alice", body={"metaapiAccountId": metaapi_id}
        )
        ids.append(answer.body["id"])
    return ids


def sync_figures(
    accounts: int = 1000, positions: int = 50, latency_seconds: float = 0.05
) -> tuple[dict[str, float], dict[str, float], Counter[str]]:
    """MetaApi calls per account sync, DynamoDB writes per steady-state scheduled sync (the
    scheduler's claim included), and accounts synced per minute by one worker, over `accounts`
    accounts of `positions` positions each: with the simulator answering at once, then with each
    MetaApi call answered after `latency_seconds`."""
    import requests

    from mtcore.aws import dynamodb_client
    from mtcore.sync.worker import get_sync_worker

    with _environment() as (api, metaapi, _, resources), queries_read_one_partition():
        simulator = metaapi.app
        ids = _linked_accounts(api, simulator, accounts, positions)
        worker = get_sync_worker()
        for account_id in ids:  # the first sync stores everything; it is not the steady state
            worker.run(SyncMessage(account_id=account_id, type=SyncType.FULL, reason=SyncReason.SCHEDULE))
        writes: Counter[str] = Counter()
        write_calls = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}

        def count(model: Any, **_: Any) -> None:
            if model.name in write_calls:
                writes.update([model.name])

        events = dynamodb_client().meta.events
        events.register("before-call", count)
        metaapi.requests.clear()
        durations = _scheduled_syncs(resources, ids, worker.run)
        events.unregister("before-call", count)
        calls = _per_sync(metaapi.requests, accounts)
        url = os.environ["METAAPI_CLIENT_URL_TEMPLATE"]
        requests.put(f"{url}/_sim/network", json={"latencySeconds": latency_seconds}, timeout=5)
        slow = _scheduled_syncs(resources, ids, worker.run)
        return (
            {
                "accounts": float(accounts),
                "positions": float(positions),
                "metaapi_calls_per_sync": sum(metaapi.requests.values()) / accounts / 2,
                "writes_per_sync": sum(writes.values()) / accounts,
                "accounts_per_minute": accounts / sum(durations) * 60,
                "sync_p50_ms": statistics.median(durations) * 1000,
                "latency_ms": latency_seconds * 1000,
                "sync_p50_ms_at_latency": statistics.median(slow) * 1000,
                "accounts_per_minute_at_latency": accounts / sum(slow) * 60,
            },
            calls,
            writes,
        )


_CHUNK = 50  # accounts due in one tick: their claims last while the worker gets through them


def _scheduled_syncs(resources: Any, ids: list[str], run: Callable[[SyncMessage], Any]) -> list[float]:
    """Every account made due and synced as scheduled: the scheduler's tick claims each (its
    lease), then the worker runs each message. Answers each sync's wall time."""
    from mtcore.accounts.access import get_metaapi_access
    from mtcore.accounts.schedule import get_sync_schedule_repository
    from mtcore.settings import get_settings
    from mtcore.store.keys import account_sk, user_pk
    from mtcore.sync.queue import SyncQueue
    from mtcore.sync.scheduler import SyncScheduler
    from mtcore.sync.state import get_sync_state_repository

    setup, sqs = boto3.client("dynamodb"), boto3.client("sqs")  # not the functions' clients: not counted
    queue_url = next(
        url
        for logical, url in resources.names.items()
        if logical.startswith("SyncSyncs") and "Dead" not in logical
    )
    scheduler = SyncScheduler(
        schedule=get_sync_schedule_repository(),
        queue=SyncQueue(sqs, queue_url, jitter=lambda: 0),
        platform=get_metaapi_access().platform(),
        backoff_until=get_sync_state_repository().backoff_until,
    )

    def make_due(account_ids: list[str], at: datetime) -> None:
        for account_id in account_ids:
            setup.update_item(
                TableName=get_settings().table_name,
                Key={"pk": {"S": user_pk("alice")}, "sk": {"S": account_sk(account_id)}},
                UpdateExpression="SET syncDueAt = :due",
                ExpressionAttributeValues={":due": {"S": at.isoformat()}},
            )

    # Accounts linked over a minute ago are due by themselves: out of the way until their chunk.
    make_due(ids, datetime.now(UTC) + timedelta(days=1))
    durations: list[float] = []
    for start in range(0, len(ids), _CHUNK):
        make_due(ids[start : start + _CHUNK], datetime.now(UTC) - timedelta(minutes=1))
        scheduler.tick()
        for message in _received(sqs, queue_url):
            started = time.perf_counter()
            run(message)
            durations.append(time.perf_counter() - started)
    if len(durations) != len(ids):
        raise RuntimeError(f"synced {len(durations)} of {len(ids)} accounts")
    return durations


def _received(sqs: Any, queue_url: str) -> list[SyncMessage]:
    messages: list[SyncMessage] = []
    while True:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        if not answer.get("Messages"):
            return messages
        for message in answer["Messages"]:
            messages.append(SyncMessage.model_validate_json(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def fan_out_seconds(due_accounts: int = 10_000) -> float:
    """The scheduler's tick over `due_accounts` accounts all due at once."""
    from mtcore.accounts.access import get_metaapi_access
    from mtcore.accounts.schedule import get_sync_schedule_repository
    from mtcore.aws import dynamodb_client
    from mtcore.settings import get_settings
    from mtcore.store.batch import batch_write
    from mtcore.store.keys import account_sk, sync_shard, user_pk
    from mtcore.sync.queue import SyncQueue
    from mtcore.sync.scheduler import SyncScheduler
    from mtcore.sync.state import get_sync_state_repository

    with _environment() as (_, _metaapi, metaapi_id, resources):
        due = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        items = []
        for number in range(due_accounts):
            account_id = f"BENCH{number:06d}"
            item = {
                "pk": {"S": user_pk("alice")},
                "sk": {"S": account_sk(account_id)},
                "entity": {"S": "ACCOUNT"},
                "id": {"S": account_id},
                "userId": {"S": "alice"},
                "metaapiAccountId": {"S": metaapi_id},
                "syncShard": {"S": sync_shard(account_id)},
                "syncDueAt": {"S": due},
                "syncInterval": {"N": "60"},
                "state": {"S": "DEPLOYED"},
            }
            items.append({"PutRequest": {"Item": item}})
        batch_write(dynamodb_client(), get_settings().table_name, items)
        queue_url = next(url for logical, url in resources.names.items() if logical.startswith("SyncSyncs"))
        sqs = boto3.client("sqs")
        sqs.meta.events.register("after-call.sqs.SendMessageBatch", _emptying(queue_url))
        scheduler = SyncScheduler(
            schedule=get_sync_schedule_repository(),
            queue=SyncQueue(sqs, queue_url),
            platform=get_metaapi_access().platform(),
            backoff_until=get_sync_state_repository().backoff_until,
        )
        # SQS (and moto by default) allows one purge a minute.
        with patch.dict(os.environ, {"MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR": "false"}):
            started = time.perf_counter()
            tick = scheduler.tick()
            seconds = time.perf_counter() - started
        if tick.queued != due_accounts:
            raise RuntimeError(f"queued {tick.queued} of {due_accounts}")
        return seconds


def _emptying(queue_url: str) -> Callable[..., None]:
    """Moto counts every message in a queue on each send (real SQS does not), which makes a
    fan-out of thousands quadratic here: the bench empties the queue after each batch."""
    purger = boto3.client("sqs")

    def empty(**_: Any) -> None:
        purger.purge_queue(QueueUrl=queue_url)

    return empty


def _per_sync(requests: Counter[str], accounts: int) -> dict[str, float]:
    """Requests per account sync, by name (the paths differ by account and time)."""
    named: Counter[str] = Counter()
    for key, count in requests.items():
        named[_call_name(key)] += count
    return {name: round(count / accounts, 2) for name, count in named.items()}


def _call_name(key: str) -> str:
    """The bench counts requests by their last path segment: name ids and times by what they are."""
    method, last = key.split(" ", 1)
    if ":" in last:
        return f"{method} history by time"
    if len(last) == 36 and last.count("-") == 4:
        return f"{method} account"
    return key

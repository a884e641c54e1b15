"""Calls one `GET /accounts/{id}/positions?live=true` makes: to MetaApi and to AWS.

In-process: moto for AWS, the MetaApi simulator on a local port, the real API handler."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import requests
from moto import mock_aws

from infra.local.metaapi_sim import MetaApiSimulator
from infra.local.resources import LocalResources, create_resources, function_environment
from infra.local.stack import API_HANDLER, serve_in_thread
from infra.synth import synthesized_template
from tests.containers import new_container
from tests.integration.conftest import EXECUTOR_HANDLER, PLATFORM_TOKEN, Api, market_hours_clock


class CountingApp:
    """Counts the MetaApi requests that reach the simulator."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.requests: Counter[str] = Counter()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["PATH_INFO"].startswith("/users/"):
            self.requests[f"{environ['REQUEST_METHOD']} {environ['PATH_INFO'].rsplit('/', 1)[-1]}"] += 1
        return self.app(environ, start_response)


def _offline_aws() -> None:
    """Throwaway credentials and region: everything AWS here is moto, in this process."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )


@contextmanager
def _environment() -> Iterator[tuple[Api, CountingApp, str, LocalResources]]:
    template = synthesized_template()
    _offline_aws()
    new_container()
    with mock_aws():
        resources = create_resources(
            template,
            dynamodb=boto3.client("dynamodb"),
            secretsmanager=boto3.client("secretsmanager"),
            sqs=boto3.client("sqs"),
            events=boto3.client("events"),
        )
        for handler in (EXECUTOR_HANDLER, API_HANDLER):
            os.environ.update(function_environment(template, handler, resources))
        environment = function_environment(template, API_HANDLER, resources)
        simulator = MetaApiSimulator(seed=7, time_source=market_hours_clock())
        counting = CountingApp(simulator)
        server = serve_in_thread(counting, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.server_port}"
        os.environ.update({"METAAPI_PROVISIONING_URL": url, "METAAPI_CLIENT_URL_TEMPLATE": url})
        boto3.client("secretsmanager").put_secret_value(
            SecretId=environment["PLATFORM_TOKEN_SECRET_ID"], SecretString=PLATFORM_TOKEN
        )
        metaapi_id = simulator.create_account(PLATFORM_TOKEN, metadata={"userId": "alice"})
        for _ in range(3):
            simulator_position(url, metaapi_id)
        # A held price: the second read then finds nothing changed, as between two quiet ticks.
        requests.put(
            f"{url}/_sim/prices/BTCUSD", json={"bid": 67000, "ask": 67010}, timeout=5
        ).raise_for_status()
        try:
            yield Api(), counting, metaapi_id, resources
        finally:
            server.shutdown()
            server.server_close()


def simulator_position(url: str, metaapi_id: str) -> None:
    body = {"symbol": "BTCUSD", "type": "POSITION_TYPE_BUY", "volume": 0.01}
    requests.post(f"{url}/_sim/accounts/{metaapi_id}/positions", json=body, timeout=5).raise_for_status()


def live_positions_calls() -> dict[str, dict[str, int]]:
    """MetaApi and AWS calls of the first (new container) and a second live positions read."""
    from mtcore.aws import dynamodb_client, secretsmanager_client

    with _environment() as (api, metaapi, metaapi_id, _):
        account_id = api.call(
            "POST", "/api/metatrader/accounts", user="alice", body={"metaapiAccountId": metaapi_id}
        ).body["id"]
        aws: Counter[str] = Counter()
        for client in (dynamodb_client(), secretsmanager_client()):
            client.meta.events.register("before-call", lambda model, **_: aws.update([model.name]))
        figures: dict[str, dict[str, int]] = {}
        for label in ("first read after linking", "second read, nothing changed"):
            metaapi.requests.clear()
            aws.clear()
            answer = api.call(
                "GET",
                f"/api/metatrader/accounts/{account_id}/positions",
                user="alice",
                query={"live": "true"},
            )
            assert answer.status == 200, answer.body
            figures[label] = {
                "metaapi": sum(metaapi.requests.values()),
                **{f"aws {name}": count for name, count in sorted(aws.items())},
            }
        return figures


def market_order_calls() -> dict[str, Counter[str]]:
    """MetaApi requests, by method and last path segment, for a first market order (a new
    container: nothing cached) and a second one (pre-trade data cached)."""
    from infra.local.queues import QueuePoller, load_handler
    from infra.local.resources import queue_subscriptions

    with _environment() as (api, metaapi, metaapi_id, resources):
        accounts = "/api/metatrader/accounts"
        account_id = api.call("POST", accounts, user="alice", body={"metaapiAccountId": metaapi_id}).body[
            "id"
        ]
        subscription = next(
            s for s in queue_subscriptions(synthesized_template(), resources) if s.handler == EXECUTOR_HANDLER
        )
        executor = QueuePoller(boto3.client("sqs"), subscription, load_handler(subscription.handler))
        order = {"symbol": "BTCUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.01, "stopLoss": 60000}
        figures: dict[str, Counter[str]] = {}
        for label in ("first order, new container", "second order, warm cache"):
            metaapi.requests.clear()
            trade = api.call("POST", f"{accounts}/{account_id}/orders", user="alice", body=order).body
            while executor.poll_once():
                pass
            final = api.call("GET", f"{accounts}/{account_id}/trades/{trade['id']}", user="alice").body
            assert final["status"] == "EXECUTED", final
            figures[label] = Counter(metaapi.requests)
        return figures


def _timed(runs: int, metaapi: CountingApp, run: Callable[[int], object]) -> dict[str, float]:
    """`run` timed `runs` times (its argument counts up), with the MetaApi calls made meanwhile."""
    metaapi.requests.clear()
    samples = []
    for number in range(runs):
        started = time.perf_counter_ns()
        run(number)
        samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    return {
        "p50_us": statistics.median(samples),
        "p99_us": samples[int(len(samples) * 0.99)],
        "count": float(runs),
        "metaapi_calls": float(sum(metaapi.requests.values())),
    }


def pretrade_check_microseconds(orders: int) -> dict[str, float]:
    """Time of the pre-trade checks of one order with a warm cache, in-process, over a mix of
    market orders with levels and pending orders."""
    from mtcore.accounts.access import get_metaapi_access
    from mtcore.accounts.repository import get_accounts_repository
    from mtcore.market.cache import get_market_cache
    from mtcore.trading.bodies import NewOrder
    from mtcore.trading.pretrade import PreTrade

    with _environment() as (api, metaapi, metaapi_id, _):
        account_id = api.call(
            "POST", "/api/metatrader/accounts", user="alice", body={"metaapiAccountId": metaapi_id}
        ).body["id"]
        account = get_accounts_repository().get("alice", account_id)
        pretrade = PreTrade(
            client=get_metaapi_access().for_account(account), account=account, cache=get_market_cache()
        )
        bodies = [
            {"symbol": "BTCUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.013, "stopLoss": 60000},
            {
                "symbol": "BTCUSD",
                "actionType": "ORDER_TYPE_SELL_LIMIT",
                "volume": 0.02,
                "openPrice": 68000,
                "stopLoss": 500,
                "stopLossUnits": "RELATIVE_PIPS",
            },
        ]
        mix = [NewOrder.model_validate(body) for body in bodies]
        for order in mix:  # warm the cache
            pretrade.new_order(order)
        return _timed(orders, metaapi, lambda number: pretrade.new_order(mix[number % len(mix)]))


EVERY_DAY = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]


def risk_check_microseconds(orders: int) -> dict[str, float]:
    """Time of what accepting an entry adds for risk, with a warm cache, in-process: the order
    sized from the quote's tick value (the pre-trade checks with it), the facts the profile's
    rules need, and every rule judged. The profile sets every rule but the two that query the
    table (trades per day, the cooldown after a loss); the open positions are in hand."""
    from datetime import UTC, datetime

    from mtcore.accounts.access import get_metaapi_access
    from mtcore.accounts.repository import get_accounts_repository
    from mtcore.market.cache import get_market_cache
    from mtcore.metaapi.models import Position
    from mtcore.portfolio.history import get_history_repository
    from mtcore.risk import RiskProfile, RiskState, refuse_entry, trading_day
    from mtcore.trading.bodies import NewOrder
    from mtcore.trading.pretrade import PreTrade
    from mtcore.trading.repository import get_trades_repository
    from mtcore.trading.risk_gate import Entry, RiskGate

    with _environment() as (api, metaapi, metaapi_id, _):
        account_id = api.call(
            "POST", "/api/metatrader/accounts", user="alice", body={"metaapiAccountId": metaapi_id}
        ).body["id"]
        account = get_accounts_repository().get("alice", account_id)
        client, cache = get_metaapi_access().for_account(account), get_market_cache()
        remote = account.remote
        pretrade = PreTrade(client=client, account=account, cache=cache)
        gate = RiskGate(trades=get_trades_repository(), history=get_history_repository(), market=cache)
        open_positions = [Position.model_validate(p) for p in client.positions(remote)]
        profile = RiskProfile.model_validate(
            {
                "maxVolumePerOrder": 5,
                "maxOpenPositions": 50,
                "maxPositionsPerSymbol": 20,
                "maxTotalVolumePerSymbol": 10,
                "maxRiskPerTradePercent": 2,
                "requireStopLoss": True,
                "blockedSymbols": ["US30"],
                "tradingWindows": {
                    "timeZone": "UTC",
                    # The whole day, in two windows: every entry is inside, so every rule is judged.
                    "windows": [
                        {"days": EVERY_DAY, "from": "00:00", "to": "12:00"},
                        {"days": EVERY_DAY, "from": "12:00", "to": "00:00"},
                    ],
                },
                "maxDailyLoss": {"percent": 5},
                "maxDrawdownPercent": 10,
            }
        )
        equity = cache.account_information(client, remote).equity
        day = trading_day(datetime.now(UTC), cache.broker_now(client, remote))
        state = RiskState(day=day.day, day_start_equity=equity, high_water_mark=equity)
        bodies = [
            {
                "symbol": "BTCUSD",
                "actionType": "ORDER_TYPE_BUY",
                "stopLoss": 66000,
                "sizing": {"mode": "risk_percent", "percent": 1, "of": "equity"},
            },
            {
                "symbol": "BTCUSD",
                "actionType": "ORDER_TYPE_SELL_LIMIT",
                "openPrice": 68000,
                "stopLoss": 500,
                "stopLossUnits": "RELATIVE_PIPS",
                "sizing": {"mode": "risk_amount", "amount": 50},
            },
        ]
        mix = [NewOrder.model_validate(body) for body in bodies]

        def judge(order: NewOrder) -> None:
            checked = pretrade.new_order(order)
            entry = Entry(order.symbol, checked.volume, checked.stop_loss is not None, checked.risk_percent)
            facts = gate.facts(
                account,
                client,
                profile,
                state,
                entry,
                now=datetime.now(UTC),
                open_positions=lambda: open_positions,
            )
            refuse_entry(profile, facts)

        for order in mix:  # warm the cache
            judge(order)
        return _timed(orders, metaapi, lambda number: judge(mix[number % len(mix)]))


def loss_guard_calls() -> dict[str, Counter[str]]:
    """MetaApi and DynamoDB calls the loss guards add to a sync: the first evaluation of an
    account in a container, then one in the steady state (nothing moved since)."""
    from datetime import UTC, datetime

    from mtcore.accounts.repository import get_accounts_repository
    from mtcore.aws import dynamodb_client
    from mtcore.sync.models import SyncMessage, SyncReason, SyncType
    from mtcore.sync.worker import get_sync_worker
    from mtcore.trading import get_keyless_desk, guard

    with _environment() as (api, metaapi, metaapi_id, _):
        account_id = api.call(
            "POST", "/api/metatrader/accounts", user="alice", body={"metaapiAccountId": metaapi_id}
        ).body["id"]
        api.call(
            "PUT",
            f"/api/metatrader/accounts/{account_id}/risk",
            user="alice",
            body={"maxDailyLoss": {"percent": 5}},
        )
        get_sync_worker().run(
            SyncMessage(account_id=account_id, type=SyncType.FULL, reason=SyncReason.SCHEDULE)
        )
        account, desk = get_accounts_repository().get("alice", account_id), get_keyless_desk()
        dynamodb: Counter[str] = Counter()
        dynamodb_client().meta.events.register(
            "before-call", lambda model, **_: dynamodb.update([model.name])
        )
        figures: dict[str, Counter[str]] = {}
        for label in ("first evaluation", "steady state"):
            metaapi.requests.clear()
            dynamodb.clear()
            guard(account, desk=desk, now=datetime.now(UTC))
            figures[label] = Counter(metaapi.requests) + Counter(
                {f"DynamoDB {k}": v for k, v in dynamodb.items()}
            )
        return figures


def intake_calls() -> dict[str, Counter[str]]:
    """AWS calls of the webhook intake for an accepted alert to one account: the first one in a
    new container and a second one."""
    from mtcore.aws import dynamodb_client, sqs_client
    from tests.integration.conftest import WEBHOOK_HANDLER, post_alert

    with _environment() as (api, _, metaapi_id, resources):
        os.environ.update(function_environment(synthesized_template(), WEBHOOK_HANDLER, resources))
        accounts = "/api/metatrader/accounts"
        account_id = api.call("POST", accounts, user="alice", body={"metaapiAccountId": metaapi_id}).body[
            "id"
        ]
        hook = api.call(
            "POST",
            "/api/metatrader/webhooks",
            user="alice",
            body={"name": "bench", "accountIds": [account_id]},
        ).body
        new_container()
        aws: Counter[str] = Counter()
        figures: dict[str, Counter[str]] = {}
        for number, label in enumerate(("first alert, new container", "second alert")):
            if number == 0:
                for client in (dynamodb_client(), sqs_client()):
                    client.meta.events.register("before-call", lambda model, **_: aws.update([model.name]))
            aws.clear()
            alert = json.dumps(
                {
                    "action": "buy",
                    "symbol": "BTCUSD",
                    "volume": 0.01,
                    "signalId": str(number),
                    "secret": hook["secret"],
                }
            )
            answer = post_alert(hook["id"], alert)
            assert answer.status == 202, answer.body
            figures[label] = Counter(aws)
        return figures


def account_creation_calls() -> dict[str, Any]:
    """What one account created with its credentials costs, from `POST /accounts` to READY, on
    the happy path at the simulator's own pace (creation 2 s, deployment 3 s, as the local stack
    runs it): MetaApi requests by method and last path segment, AWS calls by operation (the API
    and the provisioning worker together), deliveries of the operation's message, and the time."""
    from infra.local.queues import QueuePoller, load_handler
    from infra.local.resources import queue_subscriptions
    from mtcore.aws import dynamodb_client, secretsmanager_client, sqs_client
    from tests.integration.conftest import PROVISIONING_HANDLER

    with _environment() as (api, metaapi, _, resources):
        os.environ.update(function_environment(synthesized_template(), PROVISIONING_HANDLER, resources))
        url = os.environ["METAAPI_PROVISIONING_URL"]
        requests.put(
            f"{url}/_sim/provisioning", json={"creationSeconds": 2, "deploySeconds": 3}, timeout=5
        ).raise_for_status()
        subscription = next(
            s
            for s in queue_subscriptions(synthesized_template(), resources)
            if s.handler == PROVISIONING_HANDLER
        )
        worker = QueuePoller(boto3.client("sqs"), subscription, load_handler(subscription.handler))
        aws: Counter[str] = Counter()
        following = [False]  # the follower's reads are not the creation's

        def count(model: Any, **_: Any) -> None:
            if not following[0]:
                aws.update([model.name])

        for client in (dynamodb_client(), secretsmanager_client(), sqs_client()):
            client.meta.events.register("before-call", count)
        metaapi.requests.clear()
        body = {
            "name": "Bench",
            "platform": "mt5",
            "server": "SimBroker-Demo",
            "login": "70001",
            "password": "pass",
        }
        started = time.perf_counter()
        account = api.call("POST", "/api/metatrader/accounts", user="alice", body=body).body
        deliveries = 0
        while True:
            deliveries += worker.poll_once()
            following[0] = True
            status = api.call("GET", f"/api/metatrader/accounts/{account['id']}", user="alice").body
            following[0] = False
            if status["provisioningStatus"] != "CREATING" and status["provisioningStatus"] != "DEPLOYING":
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        assert status["provisioningStatus"] == "READY", status
        metaapi_id = status["metaapiAccountId"]
        return {
            # The account's own path ends in its id: named for what it reads.
            "metaapi": Counter(
                {name.replace(metaapi_id, "{accountId}"): count for name, count in metaapi.requests.items()}
            ),
            "aws": aws,
            "deliveries": deliveries,
            "seconds": seconds,
        }

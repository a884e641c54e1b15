"""Calls one `GET /accounts/{id}/positions?live=true` makes: to MetaApi and to AWS.

In-process: moto for AWS, the MetaApi simulator on a local port, the real API handler."""

from __future__ import annotations

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
        metaapi.requests.clear()
        samples = []
        for number in range(orders):
            started = time.perf_counter_ns()
            pretrade.new_order(mix[number % len(mix)])
            samples.append((time.perf_counter_ns() - started) / 1000)
        samples.sort()
        return {
            "p50_us": statistics.median(samples),
            "p99_us": samples[int(len(samples) * 0.99)],
            "count": float(orders),
            "metaapi_calls": float(sum(metaapi.requests.values())),
        }

"""Real handlers in-process against moto, with tables and secrets created from the synthesized
CDK template and the function's environment taken from it."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from infra.local.gateway import LambdaContext
from infra.local.resources import LocalResources, create_resources, function_environment
from infra.synth import synthesized_template
from tests.containers import new_container as fresh_container

API_HANDLER = "functions.api.handler.lambda_handler"
EXECUTOR_HANDLER = "functions.executor.handler.lambda_handler"
DEAD_LETTER_HANDLER = "functions.dead_letters.handler.lambda_handler"
TRADE_EVENTS_HANDLER = "functions.trade_events.handler.lambda_handler"
PROVISIONING_HANDLER = "functions.provisioning.handler.lambda_handler"
WEBHOOK_HANDLER = "functions.webhook.handler.lambda_handler"
TRADINGVIEW_IP = "52.89.214.238"


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return synthesized_template()


@pytest.fixture
def aws(template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalResources]:
    with mock_aws():
        resources = create_resources(
            template,
            dynamodb=boto3.client("dynamodb"),
            secretsmanager=boto3.client("secretsmanager"),
            sqs=boto3.client("sqs"),
            events=boto3.client("events"),
            ses=boto3.client("ses"),
        )
        for handler in (
            API_HANDLER,
            EXECUTOR_HANDLER,
            DEAD_LETTER_HANDLER,
            TRADE_EVENTS_HANDLER,
            WEBHOOK_HANDLER,
            PROVISIONING_HANDLER,
        ):
            for name, value in function_environment(template, handler, resources).items():
                monkeypatch.setenv(name, value)
        yield resources


@dataclass
class Answer:
    status: int
    headers: dict[str, list[str]]
    body: Any


@dataclass
class Api:
    """Calls the API function the way API Gateway does, with or without a signed-in user."""

    last_request_id: str = ""

    def call(
        self,
        method: str,
        path: str,
        *,
        user: str | None = None,
        query: dict[str, str] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw_body: bytes | None = None,
    ) -> Answer:
        """`body` is sent as JSON; `raw_body` as it is (base64 when it is not UTF-8 text, as API
        Gateway passes such bytes)."""
        from functions.api.handler import lambda_handler

        public = path == "/api/health"
        sent = body is not None or raw_body is not None
        # As a JSON client sends it, unless the test says otherwise.
        all_headers = ({"Content-Type": "application/json"} if sent else {}) | (headers or {})
        text, is_base64 = (json.dumps(body) if body is not None else None), False
        if raw_body is not None:
            try:
                text = raw_body.decode()
            except UnicodeDecodeError:
                text, is_base64 = base64.b64encode(raw_body).decode(), True
        self.last_request_id = str(uuid.uuid4())
        context: dict[str, Any] = {
            "requestId": self.last_request_id,
            "stage": "local",
            "resourcePath": path if public else "/api/{proxy+}",
            "httpMethod": method,
            "identity": {"sourceIp": "127.0.0.1"},
        }
        if user is not None:
            context["authorizer"] = {"claims": {"sub": user}}
        event = {
            "resource": context["resourcePath"],
            "path": path,
            "httpMethod": method,
            "headers": all_headers,
            "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
            "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": None if public else {"proxy": path.removeprefix("/api/")},
            "requestContext": context,
            "body": text,
            "isBase64Encoded": is_base64,
        }
        lambda_context = LambdaContext(
            "api", deadline_s=time.monotonic() + 25, aws_request_id=self.last_request_id
        )
        result = lambda_handler(event, lambda_context)
        headers_out = {name: [value] for name, value in (result.get("headers") or {}).items()}
        headers_out.update(result.get("multiValueHeaders") or {})
        return Answer(
            result["statusCode"], headers_out, json.loads(result["body"]) if result["body"] else None
        )


@pytest.fixture
def api(aws: LocalResources) -> Api:
    return Api()


def post_alert(
    webhook_id: str,
    body: str | bytes,
    *,
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
    source_ip: str = TRADINGVIEW_IP,
) -> Answer:
    """An alert to the webhook intake, as API Gateway hands it to the function: the source IP
    from the connection, in the request context."""
    from functions.webhook.handler import lambda_handler

    data = body.encode() if isinstance(body, str) else body
    all_headers = ({"Content-Type": content_type} if content_type else {}) | (headers or {})
    try:
        text, is_base64 = data.decode(), False
    except UnicodeDecodeError:
        text, is_base64 = base64.b64encode(data).decode(), True
    request_id = str(uuid.uuid4())
    event = {
        "resource": "/api/webhooks/{id}",
        "path": f"/api/webhooks/{webhook_id}",
        "httpMethod": "POST",
        "headers": all_headers,
        "pathParameters": {"id": webhook_id},
        "requestContext": {"requestId": request_id, "identity": {"sourceIp": source_ip}},
        "body": text,
        "isBase64Encoded": is_base64,
    }
    context = LambdaContext("webhook", deadline_s=time.monotonic() + 10, aws_request_id=request_id)
    result = lambda_handler(event, context)
    return Answer(
        result["statusCode"], {k: [v] for k, v in result["headers"].items()}, json.loads(result["body"])
    )


@pytest.fixture
def new_container(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], None]:
    """Change a function setting: settings are read once per container, so this starts a new one."""

    def restart_with(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        fresh_container()

    return restart_with


PLATFORM_TOKEN = "platform.token.under-test"


def _recent_midweek_noon() -> float:
    """The latest noon (UTC) on a Tuesday, Wednesday or Thursday at least an hour ago: every
    simulated market is open then, and it is recent enough (at most 5 days back) for everything
    that looks at the last week, whatever day the tests run on."""
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    while noon.weekday() not in (1, 2, 3) or noon > datetime.now(UTC) - timedelta(hours=1):
        noon -= timedelta(days=1)
    return noon.timestamp()


MIDWEEK_NOON = _recent_midweek_noon()


def market_hours_clock() -> Callable[[], float]:
    """A clock that starts at MIDWEEK_NOON and runs at real speed."""
    started = time.time()
    return lambda: MIDWEEK_NOON + (time.time() - started)


@dataclass
class Simulator:
    """The MetaApi simulator on a real local port, as the client meets MetaApi: over HTTP."""

    sim: Any
    url: str
    session: requests.Session

    def account(self, token: str = PLATFORM_TOKEN, **fields: Any) -> str:
        account_id: str = self.sim.create_account(token, **fields)
        return account_id

    def open_position(
        self, account_id: str, symbol: str = "EURUSD", kind: str = "POSITION_TYPE_BUY", volume: float = 0.1
    ) -> dict[str, Any]:
        answer = self.session.post(
            f"{self.url}/_sim/accounts/{account_id}/positions",
            json={"symbol": symbol, "type": kind, "volume": volume},
            timeout=5,
        )
        assert answer.status_code == 201, answer.text
        position: dict[str, Any] = answer.json()
        return position

    def fault(self, account_id: str, endpoint: str, kind: str, **options: Any) -> None:
        answer = self.session.post(
            f"{self.url}/_sim/accounts/{account_id}/faults",
            json={"endpoint": endpoint, "kind": kind, **options},
            timeout=5,
        )
        assert answer.status_code == 201, answer.text

    def clear_faults(self, account_id: str) -> None:
        answer = self.session.delete(f"{self.url}/_sim/accounts/{account_id}/faults", timeout=5)
        assert answer.status_code == 204, answer.text

    def set_price(self, symbol: str, bid: float, ask: float) -> None:
        answer = self.session.put(
            f"{self.url}/_sim/prices/{symbol}", json={"bid": bid, "ask": ask}, timeout=5
        )
        assert answer.status_code == 200, answer.text

    def sim_positions(self, account_id: str, token: str = PLATFORM_TOKEN) -> list[dict[str, Any]]:
        answer = self.session.get(
            f"{self.url}/users/current/accounts/{account_id}/positions",
            headers={"auth-token": token},
            timeout=5,
        )
        positions: list[dict[str, Any]] = answer.json()
        return positions

    def undeploy(self, account_id: str, token: str = PLATFORM_TOKEN) -> None:
        answer = self.session.post(
            f"{self.url}/users/current/accounts/{account_id}/undeploy",
            headers={"auth-token": token},
            timeout=5,
        )
        assert answer.status_code == 204, answer.text

    def set_symbol(self, symbol: str, **fields: Any) -> dict[str, Any]:
        """Overrides broker rules of a symbol (tradeMode, stopsLevel, ...); answers its specification."""
        answer = self.session.put(f"{self.url}/_sim/symbols/{symbol}", json=fields, timeout=5)
        assert answer.status_code == 200, answer.text
        specification: dict[str, Any] = answer.json()
        return specification

    def name_symbols(self, account_id: str, names: dict[str, str]) -> None:
        """What this account's broker calls its symbols: broker name -> catalogue symbol."""
        answer = self.session.put(
            f"{self.url}/_sim/accounts/{account_id}/symbols", json={"symbols": names}, timeout=5
        )
        assert answer.status_code == 200, answer.text

    def reset_symbol(self, symbol: str) -> None:
        answer = self.session.delete(f"{self.url}/_sim/symbols/{symbol}", timeout=5)
        assert answer.status_code == 204, answer.text

    def set_latency(self, seconds: float) -> None:
        answer = self.session.put(f"{self.url}/_sim/network", json={"latencySeconds": seconds}, timeout=5)
        assert answer.status_code == 200, answer.text

    def provisioning(self, **settings: Any) -> dict[str, Any]:
        """The simulator's provisioning timings and switches (`creationSeconds`, `deploySeconds`,
        `undeploySeconds`, `neverConnect`) after setting those given, and its creation counts."""
        url = f"{self.url}/_sim/provisioning"
        answer = (
            self.session.put(url, json=settings, timeout=5) if settings else self.session.get(url, timeout=5)
        )
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def calls(self) -> dict[str, int]:
        """MetaApi calls the simulator answered, by endpoint (e.g. current-price, positions)."""
        answer = self.session.get(f"{self.url}/_sim/calls", timeout=5)
        assert answer.status_code == 200, answer.text
        counts: dict[str, int] = answer.json()
        return counts

    def all_accounts(self) -> list[dict[str, Any]]:
        answer = self.session.get(f"{self.url}/_sim/accounts", timeout=5)
        assert answer.status_code == 200, answer.text
        accounts: list[dict[str, Any]] = answer.json()
        return accounts

    def peak_in_flight(self) -> int:
        answer = self.session.get(f"{self.url}/_sim/network", timeout=5)
        assert answer.status_code == 200, answer.text
        peak: int = answer.json()["peakInFlight"]
        return peak


@pytest.fixture
def simulator(aws: LocalResources, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    from infra.local.metaapi_sim import MetaApiSimulator
    from infra.local.stack import serve_in_thread

    # Provisioning at once unless a test asks for MetaApi's pace (Simulator.provisioning).
    sim = MetaApiSimulator(
        seed=7, time_source=market_hours_clock(), creation_seconds=0, deploy_seconds=0, undeploy_seconds=0
    )
    server = serve_in_thread(sim, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("METAAPI_PROVISIONING_URL", url)
    monkeypatch.setenv("METAAPI_CLIENT_URL_TEMPLATE", url)
    platform_secret = next(name for logical, name in aws.names.items() if "PlatformMetaApiToken" in logical)
    boto3.client("secretsmanager").put_secret_value(SecretId=platform_secret, SecretString=PLATFORM_TOKEN)
    yield Simulator(sim, url, requests.Session())
    server.shutdown()
    server.server_close()


@pytest.fixture
def linked(api: Api, simulator: Simulator) -> tuple[str, str]:
    """A simulator account of alice's, linked: (its MetaApi id, our account id)."""
    metaapi_id = simulator.account(metadata={"userId": "alice"})
    answer = api.call("POST", "/api/metatrader/accounts", user="alice", body={"metaapiAccountId": metaapi_id})
    return metaapi_id, answer.body["id"]


def trades_log(simulator: Simulator, metaapi_id: str) -> list[dict[str, Any]]:
    answer = simulator.session.get(f"{simulator.url}/_sim/accounts/{metaapi_id}/trades", timeout=5)
    log: list[dict[str, Any]] = answer.json()
    return log


@pytest.fixture
def executor_poller(aws: LocalResources, template: dict[str, Any]) -> Any:
    """The executor fed from the order queue as Lambda's SQS event source feeds it."""
    from infra.local.queues import QueuePoller, load_handler
    from infra.local.resources import queue_subscriptions

    subscription = next(s for s in queue_subscriptions(template, aws) if "executor" in s.handler)
    return QueuePoller(boto3.client("sqs"), subscription, load_handler(subscription.handler))


@pytest.fixture
def provisioning_poller(aws: LocalResources, template: dict[str, Any]) -> Any:
    """The provisioning worker fed from its FIFO queue as Lambda's SQS event source feeds it."""
    from infra.local.queues import QueuePoller, load_handler
    from infra.local.resources import queue_subscriptions

    subscription = next(s for s in queue_subscriptions(template, aws) if "provisioning" in s.handler)
    return QueuePoller(boto3.client("sqs"), subscription, load_handler(subscription.handler))


@pytest.fixture
def timer_poller(aws: LocalResources, template: dict[str, Any]) -> Any:
    """The trade timer fed from its delay queue as Lambda's SQS event source feeds it."""
    from infra.local.queues import QueuePoller, load_handler
    from infra.local.resources import queue_subscriptions

    subscription = next(s for s in queue_subscriptions(template, aws) if "trade_timer" in s.handler)
    return QueuePoller(boto3.client("sqs"), subscription, load_handler(subscription.handler))


@pytest.fixture
def dead_letter_poller(aws: LocalResources, template: dict[str, Any]) -> Any:
    from infra.local.queues import QueuePoller, load_handler
    from infra.local.resources import queue_subscriptions

    subscription = next(s for s in queue_subscriptions(template, aws) if "dead_letters" in s.handler)
    return QueuePoller(boto3.client("sqs"), subscription, load_handler(subscription.handler))


@pytest.fixture
def sync_poller(aws: LocalResources, template: dict[str, Any]) -> Any:
    """The sync worker fed from the sync queue as Lambda's SQS event source feeds it."""
    from infra.local.queues import QueuePoller, load_handler
    from infra.local.resources import queue_subscriptions

    subscription = next(s for s in queue_subscriptions(template, aws) if "sync_worker" in s.handler)
    return QueuePoller(boto3.client("sqs"), subscription, load_handler(subscription.handler))


def _bus_listener(
    aws: LocalResources, template: dict[str, Any], source: str
) -> Callable[[], list[dict[str, Any]]]:
    """Events of one source as a subscriber sees them: a rule on the bus delivering into a queue;
    the stream is read and handed to the publisher as Lambda's stream event source does."""
    from infra.local.queues import StreamPoller, load_handler
    from infra.local.resources import stream_subscriptions

    sqs, events = boto3.client("sqs"), boto3.client("events")
    bus = next(
        name for logical, name in aws.names.items() if "Events" in logical and not name.startswith("http")
    )
    name = source.replace(".", "-")
    queue_url = sqs.create_queue(QueueName=f"{name}-under-test")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
    subscription = stream_subscriptions(template, aws)[0]
    stream = StreamPoller(
        boto3.client("dynamodb"),
        boto3.client("dynamodbstreams"),
        subscription,
        load_handler(subscription.handler),
    )

    def received() -> list[dict[str, Any]]:
        stream.poll_once()
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [json.loads(message["Body"]) for message in answer.get("Messages", [])]

    return received


@pytest.fixture
def event_listener(aws: LocalResources, template: dict[str, Any]) -> Callable[[], list[dict[str, Any]]]:
    """Trade events as a subscriber sees them."""
    return _bus_listener(aws, template, "mt-backend.trades")


@pytest.fixture
def account_event_listener(
    aws: LocalResources, template: dict[str, Any]
) -> Callable[[], list[dict[str, Any]]]:
    """Position, order, account and sync events as a subscriber sees them."""
    return _bus_listener(aws, template, "mt-backend.accounts")

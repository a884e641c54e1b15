"""Starts the local stack: AWS from moto's server, resources from the synthesized template, the
MetaApi simulator (or the real MetaApi, in single-operator mode), the real API handler behind the
local gateway, and the real WebSocket functions behind the local WebSocket API."""

from __future__ import annotations

import json
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.api_contract import TELEGRAM_WEBHOOK_RESOURCE
from infra.synth import LOCAL_STAGE, synthesized_template
from mtcore.settings import Env

if TYPE_CHECKING:
    from collections.abc import Callable

    from moto.server import ThreadedMotoServer
    from werkzeug.serving import BaseWSGIServer

    from infra.local.queues import QueuePoller, StreamPoller, Timer
    from infra.local.telegram_sim import TelegramSimulator
    from infra.local.websocket import LocalWebSocketApi

API_HANDLER = "functions.api.handler.lambda_handler"
WEBHOOK_HANDLER = "functions.webhook.handler.lambda_handler"
WEBSOCKET_AUTHORIZER = "functions.realtime_authorizer.handler.lambda_handler"
WEBSOCKET_ROUTES = "functions.realtime.handler.lambda_handler"
TELEGRAM_WEBHOOK = "functions.telegram_bot.handler.lambda_handler"
# The bot's token in the local stack, unless TELEGRAM_BOT_TOKEN names a real one.
SIMULATED_BOT_TOKEN = "123456:local-bot-token"  # noqa: S105 - the Telegram simulator's bot
LIVE_PAGE = Path(__file__).with_name("live_page.html")
LOCAL_REGION = "us-east-1"
# The simulator's MetaApi user that plays the platform; its token is the platform token here.
# Shaped as MetaApi API tokens are (a JWT's three parts): the SDK refuses provisioning calls otherwise.
SIMULATED_PLATFORM_TOKEN = "local.platform.token"  # noqa: S105 - a simulator user, not a real token
DEMO_USER = "demo"
OPERATOR_USER = "operator"


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def serve_in_thread(app: Callable[..., Any], host: str, port: int) -> BaseWSGIServer:
    from werkzeug.serving import make_server

    from infra.local.keep_alive import KeepAliveRequestHandler

    server = make_server(host, port, app, threaded=True, request_handler=KeepAliveRequestHandler)
    threading.Thread(target=server.serve_forever, name=f"serve-{server.server_port}", daemon=True).start()
    return server


def point_sdk_at(endpoint: str) -> None:
    """Every boto3 client in this process talks to the emulator with throwaway credentials,
    whatever AWS configuration the machine has: the local stack never reaches real AWS."""
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "AWS_DEFAULT_REGION": LOCAL_REGION,
            "AWS_REGION": LOCAL_REGION,
        }
    )


@dataclass
class LocalStack:
    host: str = "127.0.0.1"
    api_port: int = 3000
    simulator_port: int = 3002
    websocket_port: int = 3001
    telegram_port: int = 3003
    aws_port: int = 0
    cors_allow_origins: list[str] = field(default_factory=lambda: ["*"])
    # With a bot token, the real Telegram instead of the simulator.
    telegram_bot_token: str | None = None
    # Single-operator mode: the real MetaApi with this token, and this account linked to the operator.
    metaapi_token: str | None = None
    mt_account_id: str | None = None
    demo_account_id: str | None = None
    operator_account_id: str | None = None
    _servers: list[BaseWSGIServer] = field(default_factory=list)
    _pollers: list[QueuePoller | StreamPoller | Timer] = field(default_factory=list)
    _aws: ThreadedMotoServer | None = None
    _api: BaseWSGIServer | None = None
    _websocket: LocalWebSocketApi | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def aws_url(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def websocket_url(self) -> str:
        return f"ws://{self.host}:{self.websocket_port}"

    @property
    def telegram_url(self) -> str | None:
        return None if self.telegram_bot_token else f"http://{self.host}:{self.telegram_port}"

    @property
    def simulator_url(self) -> str | None:
        return None if self.metaapi_token else f"http://{self.host}:{self.simulator_port}"

    def start(self) -> None:
        import boto3
        from moto.server import ThreadedMotoServer
        from werkzeug.serving import make_server

        from infra.local.fast_moto import speed_up_moto
        from infra.local.gateway import LocalGateway
        from infra.local.keep_alive import KeepAliveRequestHandler
        from infra.local.queues import QueuePoller, StreamPoller, Timer, load_handler
        from infra.local.resources import (
            create_resources,
            function_environment,
            queue_subscriptions,
            schedules,
            stream_subscriptions,
        )
        from infra.local.tokens import AUDIENCE, ISSUER, JWKS_PATH, DevTokens
        from infra.local.websocket import LocalWebSocketApi

        template = synthesized_template()
        self.aws_port = self.aws_port or free_port(self.host)
        speed_up_moto()
        self._aws = ThreadedMotoServer(ip_address=self.host, port=self.aws_port, verbose=False)
        self._aws.start()
        point_sdk_at(self.aws_url)
        secretsmanager, sqs, dynamodb = (
            boto3.client("secretsmanager"),
            boto3.client("sqs"),
            boto3.client("dynamodb"),
        )
        resources = create_resources(
            template,
            dynamodb=dynamodb,
            secretsmanager=secretsmanager,
            sqs=sqs,
            events=boto3.client("events"),
            ses=boto3.client("ses"),
        )
        subscriptions = queue_subscriptions(template, resources)
        streams = stream_subscriptions(template, resources)
        # One process plays every function: their environments (all from the template) merge.
        functions = [
            API_HANDLER,
            WEBHOOK_HANDLER,
            WEBSOCKET_AUTHORIZER,
            WEBSOCKET_ROUTES,
            TELEGRAM_WEBHOOK,
            *(s.handler for s in subscriptions),
            *(s.handler for s in streams),
            *(s.handler for s in schedules(template)),
        ]
        for handler in functions:
            os.environ.update(function_environment(template, handler, resources))
        environment = function_environment(template, API_HANDLER, resources)
        os.environ[Env.CORS_ALLOW_ORIGINS] = ",".join(self.cors_allow_origins)
        # Local runs: no X-Ray daemon and no CloudWatch metrics to ship.
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

        platform_token = self.metaapi_token or self._start_simulator()
        secretsmanager.put_secret_value(
            SecretId=environment[Env.PLATFORM_TOKEN_SECRET_ID], SecretString=platform_token
        )
        if self.metaapi_token:
            os.environ[Env.OPERATOR_USER_IDS] = OPERATOR_USER
        telegram = self._start_telegram(
            secretsmanager, environment=function_environment(template, TELEGRAM_WEBHOOK, resources)
        )

        from functions.api.handler import lambda_handler
        from functions.api.resolver import app, openapi_json
        from functions.webhook.handler import lambda_handler as intake_handler
        from infra.local.containers import resolve_per_thread
        from infra.local.wakeups import TradeWritesHeard
        from mtcore.trading.reads import hear_trade_writes_from

        resolve_per_thread(app)
        hear_trade_writes_from(TradeWritesHeard())

        self._websocket = LocalWebSocketApi(
            authorizer=load_handler(WEBSOCKET_AUTHORIZER),
            routes=load_handler(WEBSOCKET_ROUTES),
            stage=LOCAL_STAGE,
        )
        self.websocket_port = self._websocket.start(self.host, self.websocket_port)
        management = serve_in_thread(self._websocket.management_app(), self.host, 0)
        self._servers.append(management)
        tokens = DevTokens()
        live_page = LIVE_PAGE.read_text().replace(
            '/*LIVE_CONFIG*/{"ws": "ws://localhost:3001"}/*END*/', json.dumps({"ws": self.websocket_url})
        )
        gateway = LocalGateway(
            lambda_handler,
            intake=intake_handler,
            tokens=tokens,
            stage=LOCAL_STAGE,
            cors_allow_origins=self.cors_allow_origins,
            openapi=openapi_json,
            telegram=load_handler(TELEGRAM_WEBHOOK),
            live_page=live_page,
        )
        self._api = make_server(
            self.host, self.api_port, gateway, threaded=True, request_handler=KeepAliveRequestHandler
        )
        self.api_port = self._api.server_port
        if telegram is not None:
            telegram.webhook_url = f"{self.api_url}{TELEGRAM_WEBHOOK_RESOURCE}"
        # The stand-ins for what only a deployment has: the user pool's keys, the stage's API.
        os.environ.update(
            {
                Env.JWKS_URL: f"{self.api_url}{JWKS_PATH}",
                Env.JWT_ISSUER: ISSUER,
                Env.JWT_AUDIENCE: AUDIENCE,
                Env.WEBSOCKET_MANAGEMENT_URL: f"http://{self.host}:{management.server_port}",
            }
        )
        for subscription in subscriptions:
            poller = QueuePoller(sqs, subscription, load_handler(subscription.handler))
            poller.start()
            self._pollers.append(poller)
        for stream in streams:
            reader = StreamPoller(
                dynamodb, boto3.client("dynamodbstreams"), stream, load_handler(stream.handler)
            )
            reader.start()
            self._pollers.append(reader)
        for schedule in schedules(template):
            timer = Timer(load_handler(schedule.handler), schedule.every_seconds, schedule.handler)
            timer.start()
            self._pollers.append(timer)
        if self.metaapi_token and self.mt_account_id:
            self.operator_account_id = _link_for_operator(self.mt_account_id)

    def _start_telegram(
        self, secretsmanager: Any, *, environment: dict[str, str]
    ) -> TelegramSimulator | None:
        """The bot's token in its secret; the Telegram simulator, unless the token is a real one."""
        from infra.local.telegram_sim import TelegramSimulator

        token = self.telegram_bot_token or SIMULATED_BOT_TOKEN
        secretsmanager.put_secret_value(
            SecretId=environment[Env.TELEGRAM_BOT_TOKEN_SECRET_ID], SecretString=token
        )
        if self.telegram_bot_token:
            return None
        webhook_secret = environment[Env.TELEGRAM_WEBHOOK_SECRET_ID]
        simulator = TelegramSimulator(
            token,
            webhook_secret=lambda: secretsmanager.get_secret_value(SecretId=webhook_secret)["SecretString"],
        )
        server = serve_in_thread(simulator, self.host, self.telegram_port)
        self._servers.append(server)
        self.telegram_port = server.server_port
        os.environ[Env.TELEGRAM_API_URL] = self.telegram_url or ""
        return simulator

    def _start_simulator(self) -> str:
        from infra.local.metaapi_sim import MetaApiSimulator

        simulator = MetaApiSimulator()
        self.demo_account_id = simulator.create_account(
            SIMULATED_PLATFORM_TOKEN, name="Demo account", metadata={"userId": DEMO_USER}
        )
        server = serve_in_thread(simulator, self.host, self.simulator_port)
        self._servers.append(server)
        self.simulator_port = server.server_port
        os.environ[Env.METAAPI_PROVISIONING_URL] = self.simulator_url or ""
        os.environ[Env.METAAPI_CLIENT_URL_TEMPLATE] = self.simulator_url or ""
        return SIMULATED_PLATFORM_TOKEN

    def serve_forever(self) -> None:
        assert self._api is not None, "start() first"
        self._api.serve_forever()

    def stop(self) -> None:
        for poller in self._pollers:
            poller.stop()
        if self._websocket is not None:
            self._websocket.stop()
        if self._api is not None:
            self._api.server_close()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        if self._aws is not None:
            self._aws.stop()


def _link_for_operator(metaapi_account_id: str) -> str | None:
    """Single-operator mode: link the configured account to the operator, through the same logic
    as POST /accounts. Best effort: the stack still starts if MetaApi cannot be reached."""
    from mtcore.accounts.access import get_metaapi_access
    from mtcore.accounts.linking import LinkRequest, link_account
    from mtcore.accounts.repository import get_accounts_repository
    from mtcore.accounts.schedule import get_sync_schedule_repository
    from mtcore.errors import Conflict, DomainError

    try:
        account = link_account(
            OPERATOR_USER,
            LinkRequest(metaapi_account_id=metaapi_account_id),
            repository=get_accounts_repository(),
            access=get_metaapi_access(),
            schedule=get_sync_schedule_repository(),
        )
    except Conflict:
        return None
    except DomainError as error:
        print(f"  Could not link MT_ACCOUNT_ID {metaapi_account_id}: {error.message}", flush=True)
        return None
    return account.id

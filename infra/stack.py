"""The one stack: it composes the constructs and grants them to each other, nothing more."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.api import Api
from infra.constructs.auth import Auth
from infra.constructs.data import DataStore
from infra.constructs.function_factory import FunctionFactory
from infra.constructs.monitoring import (
    NotificationMonitoring,
    ProvisioningMonitoring,
    RealtimeMonitoring,
    SignalMonitoring,
    SyncMonitoring,
    TradeMonitoring,
)
from infra.constructs.notifications import Notifications
from infra.constructs.packaging import Packaging
from infra.constructs.provisioning import ProvisioningPipeline
from infra.constructs.realtime import Realtime
from infra.constructs.secrets import Secrets
from infra.constructs.signals import SignalIntake
from infra.constructs.sync import SyncPipeline
from infra.constructs.trading import TradePipeline
from infra.nag import accept
from mtcore.settings import Env


class BackendStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        data = DataStore(self, "Data")
        secrets = Secrets(self, "Secrets", stage=config.stage)
        auth = Auth(self, "Auth")
        functions = FunctionFactory(self, "Functions", config=config, packaging=Packaging(self, "Packaging"))

        metaapi_environment: dict[str, str] = {
            Env.TABLE_NAME: data.table.table_name,
            Env.PLATFORM_TOKEN_SECRET_ID: secrets.platform_metaapi_token.secret_arn,
            Env.USER_TOKEN_SECRET_PREFIX: secrets.user_token_prefix,
        }
        trading = TradePipeline(
            self,
            "Trading",
            functions=functions,
            environment=metaapi_environment,
            table=data.table,
            stage=config.stage,
        )
        sync = SyncPipeline(self, "Sync", functions=functions, environment=metaapi_environment, config=config)
        signals = SignalIntake(self, "Signals", functions=functions, table=data.table, orders=trading.orders)
        provisioning = ProvisioningPipeline(
            self,
            "Provisioning",
            functions=functions,
            environment={
                **metaapi_environment,
                Env.PASSWORD_SECRET_PREFIX: secrets.password_prefix,
                Env.PROVISIONING_CONNECT_TIMEOUT_S: str(config.provisioning_connect_timeout_seconds),
            },
        )
        notifications = Notifications(
            self,
            "Notifications",
            config=config,
            functions=functions,
            table=data.table,
            bus=trading.bus,
            metaapi_environment=metaapi_environment,
        )
        api = Api(
            self,
            "Api",
            config=config,
            functions=functions,
            environment={
                **metaapi_environment,
                Env.TRADE_QUEUE_URL: trading.orders.queue_url,
                Env.SYNC_QUEUE_URL: sync.queue.queue_url,
                Env.PROVISIONING_QUEUE_URL: provisioning.queue.queue_url,
                Env.PASSWORD_SECRET_PREFIX: secrets.password_prefix,
                Env.IDEMPOTENCY_TABLE_NAME: data.idempotency.table_name,
                Env.OPERATOR_USER_IDS: ",".join(config.operator_user_ids),
                Env.CORS_ALLOW_ORIGINS: ",".join(config.cors_allow_origins),
                **notifications.environment,
            },
            user_pool=auth.user_pool,
            webhook_intake=signals.function,
            telegram_webhook=notifications.bot,
        )
        realtime = Realtime(
            self,
            "Realtime",
            config=config,
            functions=functions,
            table=data.table,
            bus=trading.bus,
            metaapi_environment=metaapi_environment,
            user_pool=auth.user_pool,
            web_client=auth.web_client,
        )
        api_function = api.function
        data.table.grant_read_write_data(trading.sweeper)
        metaapi_callers = (
            api_function,
            trading.executor,
            trading.dead_letter_consumer,
            sync.worker,
            sync.scheduler,
            provisioning.worker,
            notifications.bot,
            notifications.summaries,
        )
        secrets.platform_metaapi_token.grant_read(realtime.pump)
        notifications.grant_test_messages(api_function)
        # Their trade desk names the order queue; neither sends to it (a halt from Telegram closes nothing).
        for function in (notifications.bot, notifications.summaries):
            function.add_environment(Env.TRADE_QUEUE_URL, trading.orders.queue_url)
        for function in metaapi_callers:
            data.table.grant_read_write_data(function)
            secrets.platform_metaapi_token.grant_read(function)
        for function in (
            trading.executor,
            trading.dead_letter_consumer,
            sync.worker,
            provisioning.worker,
            realtime.pump,
            notifications.bot,
            notifications.summaries,
        ):
            secrets.grant_user_tokens(function)
        secrets.grant_user_tokens(api_function, manage=True)
        secrets.grant_pending_passwords(api_function, store=True)
        secrets.grant_pending_passwords(provisioning.worker, store=False)
        provisioning.queue.grant_send_messages(api_function)
        table_id = Stack.of(data.table).get_logical_id(data.table.node.default_child)  # type: ignore[arg-type]
        accept(
            functions,
            f"AwsSolutions-IAM5[Resource::<{table_id}.Arn>/index/*]",
            "grant_read_write_data covers the table's indexes by wildcard: the sparse index of unsettled "
            "trade requests and the sharded index of accounts due for a sync.",
        )
        data.idempotency.grant_read_write_data(api_function)
        trading.orders.grant_send_messages(api_function)
        sync.queue.grant_send_messages(api_function)
        sync.queue.grant_send_messages(trading.event_publisher)
        # A loss limit breached at a sync may close everything through the order queue.
        trading.orders.grant_send_messages(sync.worker)
        sync.worker.add_environment(Env.TRADE_QUEUE_URL, trading.orders.queue_url)
        trading.event_publisher.add_environment(Env.SYNC_QUEUE_URL, sync.queue.queue_url)

        TradeMonitoring(self, "Monitoring", trading=trading)
        SyncMonitoring(self, "SyncMonitoring", sync=sync)
        SignalMonitoring(self, "SignalMonitoring", intake=signals)
        ProvisioningMonitoring(self, "ProvisioningMonitoring", provisioning=provisioning)
        RealtimeMonitoring(self, "RealtimeMonitoring", realtime=realtime)
        NotificationMonitoring(self, "NotificationMonitoring", notifications=notifications)

        CfnOutput(self, "ApiUrl", value=api.rest_api.url, key="ApiUrl")
        CfnOutput(self, "WebSocketUrl", value=realtime.stage.url, key="WebSocketUrl")
        CfnOutput(self, "UserPoolId", value=auth.user_pool.user_pool_id, key="UserPoolId")
        CfnOutput(self, "UserPoolClientId", value=auth.web_client.user_pool_client_id, key="UserPoolClientId")
        CfnOutput(
            self,
            "PlatformTokenSecretName",
            value=secrets.platform_metaapi_token.secret_name,
            key="PlatformTokenSecretName",
        )

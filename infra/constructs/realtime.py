"""Live pushes to the dashboard: a WebSocket API whose `$connect` is let in by a Lambda authorizer
checking the Cognito ID token in `?token=`, its routes' function, a connections table, the
broadcaster that takes the bus's events to their owners' connections (through a queue, with
partial batch failures), and the price pump that runs while someone watches a price."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs import data
from infra.constructs.queues import queue_with_dead_letters
from infra.nag import accept
from mtcore.realtime.connections import BY_USER_INDEX, WATCHING_INDEX
from mtcore.settings import Env

if TYPE_CHECKING:
    from aws_cdk import aws_cognito as cognito

    from infra.config import StageConfig
    from infra.constructs.function_factory import FunctionFactory

# Where the bus's events come from, all of which a dashboard may show.
PUSHED_SOURCES = ["mt-backend.trades", "mt-backend.accounts"]
# A pump invocation runs this long before it hands on, under its function's timeout.
PUMP_SECONDS = 50
PUMP_TIMEOUT = Duration.seconds(PUMP_SECONDS + 20)
BROADCASTER_TIMEOUT = Duration.seconds(30)


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    """The stage's access logs in a log group, in API Gateway's default format (no message bodies,
    no query strings: the token never reaches a log)."""

    def __init__(self, destination: apigwv2.IAccessLogDestination) -> None:
        self._destination = destination

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> None:
        return None


class Realtime(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        functions: FunctionFactory,
        table: dynamodb.TableV2,
        bus: events.IEventBus,
        metaapi_environment: dict[str, str],
        user_pool: cognito.UserPool,
        web_client: cognito.UserPoolClient,
    ) -> None:
        super().__init__(scope, construct_id)
        self.connections = data.table(
            self,
            "Connections",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="ttl",
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=BY_USER_INDEX,
                    partition_key=dynamodb.Attribute(name="userId", type=dynamodb.AttributeType.STRING),
                ),
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=WATCHING_INDEX,
                    partition_key=dynamodb.Attribute(name="watchShard", type=dynamodb.AttributeType.STRING),
                ),
            ],
            # Connections last two hours at most: nothing here outlives the stack.
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.pump_queue, self.pump_dead_letters = queue_with_dead_letters(
            self,
            "PricePump",
            "PricePumpDeadLetters",
            visibility_timeout=Duration.seconds(PUMP_TIMEOUT.to_seconds() * 2),
            max_receive_count=5,
        )
        self.events_queue, self.events_dead_letters = queue_with_dead_letters(
            self,
            "PushedEvents",
            "PushedEventDeadLetters",
            visibility_timeout=Duration.seconds(BROADCASTER_TIMEOUT.to_seconds() * 2),
            max_receive_count=5,
        )
        issuer = user_pool.user_pool_provider_url
        self.authorizer: lambda_.Function = functions.create(
            "WebSocketAuthorizerFunction",
            handler="functions.realtime_authorizer.handler.lambda_handler",
            description="Lets a WebSocket connection in when its ?token= is a valid Cognito ID token",
            timeout=Duration.seconds(10),
            memory_size=256,
            environment={
                Env.TABLE_NAME: table.table_name,
                Env.JWT_ISSUER: issuer,
                Env.JWKS_URL: f"{issuer}/.well-known/jwks.json",
                Env.JWT_AUDIENCE: web_client.user_pool_client_id,
            },
        )
        self.routes: lambda_.Function = functions.create(
            "WebSocketFunction",
            handler="functions.realtime.handler.lambda_handler",
            description="The dashboard's WebSocket routes: connect, disconnect, subscribe, unsubscribe, ping",
            timeout=Duration.seconds(10),
            environment={
                Env.TABLE_NAME: table.table_name,
                Env.CONNECTIONS_TABLE_NAME: self.connections.table_name,
                Env.PRICE_PUMP_QUEUE_URL: self.pump_queue.queue_url,
            },
        )
        routes = integrations.WebSocketLambdaIntegration("Routes", self.routes)
        self.api = apigwv2.WebSocketApi(
            self,
            "WebSocketApi",
            api_name=f"mt-backend-{config.stage}-live",
            description="Live pushes to the dashboard",
            connect_route_options=apigwv2.WebSocketRouteOptions(
                integration=routes,
                authorizer=authorizers.WebSocketLambdaAuthorizer(
                    "TokenAuthorizer", self.authorizer, identity_source=["route.request.querystring.token"]
                ),
            ),
            disconnect_route_options=apigwv2.WebSocketRouteOptions(integration=routes),
            default_route_options=apigwv2.WebSocketRouteOptions(integration=routes),
        )
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=config.stage,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.api_rate_limit, burst_limit=config.api_burst_limit
            ),
            access_log_settings=_AccessLogs(apigwv2.LogGroupLogDestination(access_logs)),
        )
        accept(
            self.api,
            "AwsSolutions-APIG4",
            "A WebSocket API authorizes its $connect route only; every later message travels on the "
            "connection the authorizer let in, and its function reads the user from that connection.",
        )
        management: dict[str, str] = {Env.WEBSOCKET_MANAGEMENT_URL: self.stage.callback_url}
        self.routes.add_environment(Env.WEBSOCKET_MANAGEMENT_URL, self.stage.callback_url)

        self.broadcaster: lambda_.Function = functions.create(
            "BroadcasterFunction",
            handler="functions.broadcaster.handler.lambda_handler",
            description="Pushes trade, position, order, account, sync and risk events to their owners",
            timeout=BROADCASTER_TIMEOUT,
            environment={
                Env.TABLE_NAME: table.table_name,
                Env.CONNECTIONS_TABLE_NAME: self.connections.table_name,
                **management,
            },
        )
        self.broadcaster.add_event_source(
            event_sources.SqsEventSource(self.events_queue, batch_size=10, report_batch_item_failures=True)
        )
        events.Rule(
            self,
            "PushedEventsRule",
            description="Trade and account events to the dashboards' connections",
            event_bus=bus,
            event_pattern=events.EventPattern(source=PUSHED_SOURCES),
            targets=[targets.SqsQueue(self.events_queue)],
        )
        self.pump: lambda_.Function = functions.create(
            "PricePumpFunction",
            handler="functions.price_pump.handler.lambda_handler",
            description="Pushes live prices while a connection watches them",
            timeout=PUMP_TIMEOUT,
            memory_size=256,
            environment={
                **metaapi_environment,
                Env.CONNECTIONS_TABLE_NAME: self.connections.table_name,
                Env.PRICE_PUMP_QUEUE_URL: self.pump_queue.queue_url,
                Env.PRICE_PUMP_SECONDS: str(PUMP_SECONDS),
                **management,
            },
        )
        self.pump.add_event_source(
            event_sources.SqsEventSource(self.pump_queue, batch_size=1, report_batch_item_failures=True)
        )

        stack = Stack.of(self)
        api_id = stack.get_logical_id(self.api.node.default_child)  # type: ignore[arg-type]
        table_id = stack.get_logical_id(self.connections.node.default_child)  # type: ignore[arg-type]
        for function in (self.routes, self.broadcaster, self.pump):
            self.connections.grant_read_write_data(function)
            self.stage.grant_management_api_access(function)
            accept(
                function.role,  # type: ignore[arg-type]
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:"
                f"<AWS::AccountId>:<{api_id}>/{config.stage}/*/@connections/*]",
                "Posting to connections is granted on this stage's @connections path: connection ids are "
                "made by API Gateway at run time, so no narrower resource exists.",
            )
            accept(
                function.role,  # type: ignore[arg-type]
                f"AwsSolutions-IAM5[Resource::<{table_id}.Arn>/index/*]",
                "grant_read_write_data covers the connections table's indexes by wildcard: connections by "
                "user, and those watching prices.",
            )
        table.grant_read_data(self.routes)  # a subscription proves the account is the caller's
        table.grant_read_write_data(self.broadcaster)  # the event log
        table.grant_read_data(self.pump)
        self.pump_queue.grant_send_messages(self.routes)
        self.pump_queue.grant_send_messages(self.pump)  # it hands itself on

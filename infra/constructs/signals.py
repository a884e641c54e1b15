"""The webhook intake: a lean function behind the public `POST /api/webhooks/{id}` route that
records alerts and queues their trades, and never calls MetaApi."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from constructs import Construct

from mtcore.settings import Env

if TYPE_CHECKING:
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sqs as sqs

    from infra.constructs.function_factory import FunctionFactory

# It answers in milliseconds; TradingView gives up after 3 s.
INTAKE_TIMEOUT = Duration.seconds(10)


class SignalIntake(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: FunctionFactory,
        table: dynamodb.TableV2,
        orders: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function: lambda_.Function = functions.create(
            "WebhookIntakeFunction",
            handler="functions.webhook.handler.lambda_handler",
            description="Takes webhook alerts (TradingView, PineConnector lines) and queues their trades",
            timeout=INTAKE_TIMEOUT,
            environment={Env.TABLE_NAME: table.table_name, Env.TRADE_QUEUE_URL: orders.queue_url},
        )
        table.grant_read_write_data(self.function)
        orders.grant_send_messages(self.function)

"""Account operations at MetaApi: a FIFO queue (one message group per account, so an account's
operations run in order), its dead-letter queue, and the provisioning worker, the one function
with the MetaApi SDK's layer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from constructs import Construct

from infra.constructs.queues import queue_with_dead_letters
from mtcore.provisioning.queue import MAX_RECEIVES
from mtcore.settings import Env

if TYPE_CHECKING:
    from infra.constructs.function_factory import FunctionFactory

# A step is a few MetaApi calls of at most 10 s each; waits happen between deliveries, never in one.
WORKER_TIMEOUT = Duration.seconds(60)


class ProvisioningPipeline(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, functions: FunctionFactory, environment: dict[str, str]
    ) -> None:
        super().__init__(scope, construct_id)
        self.queue, self.dead_letters = queue_with_dead_letters(
            self,
            "Operations",
            "OperationDeadLetters",
            visibility_timeout=Duration.seconds(WORKER_TIMEOUT.to_seconds() * 2),
            # The worker hands a waiting message back for each look and concludes the operation
            # itself before this: only a worker failing on every delivery reaches dead letters.
            max_receive_count=MAX_RECEIVES,
            fifo=True,
        )
        self.worker: lambda_.Function = functions.create(
            "ProvisioningFunction",
            handler="functions.provisioning.handler.lambda_handler",
            description="Creates, deploys, undeploys and removes accounts at MetaApi, a step per delivery",
            timeout=WORKER_TIMEOUT,
            environment={**environment, Env.PROVISIONING_QUEUE_URL: self.queue.queue_url},
            metaapi_sdk=True,
        )
        self.worker.add_event_source(
            event_sources.SqsEventSource(self.queue, batch_size=1, report_batch_item_failures=True)
        )
        # The worker changes a message's visibility to look again after a wait.
        self.queue.grant_consume_messages(self.worker)

"""Account sync: a schedule runs the scheduler, which queues one message per due account on a
standard queue; the worker syncs them with partial batch failures and a capped concurrency, so
sync never uses up MetaApi's headroom that trading needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from constructs import Construct

from infra.constructs.queues import queue_with_dead_letters
from mtcore.settings import Env

if TYPE_CHECKING:
    from infra.config import StageConfig
    from infra.constructs.function_factory import FunctionFactory

WORKER_TIMEOUT = Duration.seconds(60)
# A sync that keeps failing is retried a few times, then kept aside for a look.
MAX_RECEIVE_COUNT = 5
SYNC_BATCHING_WINDOW_SECONDS = 1


class SyncPipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: FunctionFactory,
        environment: dict[str, str],
        config: StageConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        self.queue, self.dead_letters = queue_with_dead_letters(
            self,
            "Syncs",
            "SyncDeadLetters",
            visibility_timeout=Duration.seconds(WORKER_TIMEOUT.to_seconds() * 2),
            max_receive_count=MAX_RECEIVE_COUNT,
        )
        sync_environment = {**environment, Env.SYNC_QUEUE_URL: self.queue.queue_url}
        self.worker: lambda_.Function = functions.create(
            "SyncWorkerFunction",
            handler="functions.sync_worker.handler.lambda_handler",
            description="Brings one account's positions, orders, deals and balances in step with its broker",
            timeout=WORKER_TIMEOUT,
            environment=sync_environment,
        )
        self.worker.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=10,
                # The syncs a burst of trades asks for arrive in one batch, where one sync of
                # the account answers them all.
                max_batching_window=Duration.seconds(SYNC_BATCHING_WINDOW_SECONDS),
                report_batch_item_failures=True,
                # MetaApi's rate limit is shared with trading: sync takes only so much of it.
                max_concurrency=config.sync_max_concurrency,
            )
        )
        # The worker makes a message visible again when an account is busy or sync is paused.
        self.queue.grant_consume_messages(self.worker)
        self.scheduler: lambda_.Function = functions.create(
            "SyncSchedulerFunction",
            handler="functions.sync_scheduler.handler.lambda_handler",
            description="Queues a sync for every account that is due",
            timeout=Duration.seconds(60),
            environment=sync_environment,
        )
        self.queue.grant_send_messages(self.scheduler)
        events.Rule(
            self,
            "SyncSchedule",
            description="Runs the sync scheduler",
            schedule=events.Schedule.rate(Duration.minutes(config.sync_rate_minutes)),
            targets=[targets.LambdaFunction(self.scheduler, retry_attempts=2)],
        )

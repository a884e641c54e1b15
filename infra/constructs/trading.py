"""The trade pipeline: a FIFO order queue (one message group per account), its dead-letter
queue, the executor that consumes it with partial batch failures, and the trade timer that
hands parked trades back to it on time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from constructs import Construct

from infra.constructs.queues import queue_with_dead_letters
from mtcore.settings import Env

if TYPE_CHECKING:
    from infra.constructs.function_factory import FunctionFactory

# Each delivery does at most one send plus a settle-and-reconcile, each phase with its own
# MetaApi budget (ExecutorPolicy.delivery_seconds, under 40 s); a minute bounds it.
EXECUTOR_TIMEOUT = Duration.seconds(60)
# One record per invocation: a batch always fits the timeout, and no record of an account's
# group ever waits in flight behind a failed one of the same batch (a FIFO group is blocked
# while any of its messages is in flight, so closes would wait out the visibility timeout).
# Different accounts still run side by side, one invocation per message group.
BATCH_SIZE = 1
# Above the executor's own budget (5 sends, each with a few short re-checks): the executor
# finishes every request itself; the dead-letter queue only sees messages it could not handle.
MAX_RECEIVE_COUNT = 30
SWEEP_EVERY = Duration.minutes(1)
TIMER_TIMEOUT = Duration.seconds(30)
# A hand-back that keeps failing goes to dead letters; the sweeper still sends its trade.
TIMER_MAX_RECEIVE_COUNT = 5
# Items whose changes are events (the rest of the stream never wakes the publisher).
EVENTFUL_ENTITIES = [
    "TRADE",
    "POSITION",
    "CLOSED_POSITION",
    "ORDER",
    "HISTORY_ORDER",
    "ACCOUNT",
    "SYNC_LOG",
    "RISK",
]


class TradePipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: FunctionFactory,
        environment: dict[str, str],
        table: dynamodb.TableV2,
        stage: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Events", event_bus_name=f"mt-backend-{stage}")
        self.event_publisher = functions.create(
            "TradeEventsFunction",
            handler="functions.trade_events.handler.lambda_handler",
            description="Publishes trade and account events from the table's stream",
            timeout=Duration.seconds(30),
            environment={
                Env.TABLE_NAME: environment[Env.TABLE_NAME],
                Env.EVENT_BUS_NAME: self.bus.event_bus_name,
            },
        )
        self.event_publisher.add_event_source(
            event_sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.LATEST,
                batch_size=100,
                bisect_batch_on_error=True,
                retry_attempts=10,
                report_batch_item_failures=True,
                filters=[
                    lambda_.FilterCriteria.filter(
                        {"dynamodb": {"NewImage": {"entity": {"S": EVENTFUL_ENTITIES}}}}
                    )
                ],
            )
        )
        self.bus.grant_put_events_to(self.event_publisher)
        self.orders, self.dead_letters = queue_with_dead_letters(
            self,
            "Orders",
            "OrderDeadLetters",
            visibility_timeout=Duration.seconds(EXECUTOR_TIMEOUT.to_seconds() * 2),
            max_receive_count=MAX_RECEIVE_COUNT,
            fifo=True,
        )
        # FIFO queues delay no single message: a parked trade waits here, under its own delay.
        self.trade_timer, self.timer_dead_letters = queue_with_dead_letters(
            self,
            "TradeTimer",
            "TradeTimerDeadLetters",
            visibility_timeout=Duration.seconds(TIMER_TIMEOUT.to_seconds() * 2),
            max_receive_count=TIMER_MAX_RECEIVE_COUNT,
        )
        queues: dict[str, str] = {
            Env.TRADE_QUEUE_URL: self.orders.queue_url,
            Env.TRADE_TIMER_QUEUE_URL: self.trade_timer.queue_url,
        }
        self.executor: lambda_.Function = functions.create(
            "ExecutorFunction",
            handler="functions.executor.handler.lambda_handler",
            description="Places queued trades at the broker, exactly once",
            timeout=EXECUTOR_TIMEOUT,
            environment={**environment, **queues},
        )
        self.trade_timer.grant_send_messages(self.executor)
        self.timer: lambda_.Function = functions.create(
            "TradeTimerFunction",
            handler="functions.trade_timer.handler.lambda_handler",
            description="Hands parked trades back to the order queue when they are due",
            timeout=TIMER_TIMEOUT,
            memory_size=256,
            environment={Env.TABLE_NAME: environment[Env.TABLE_NAME], **queues},
        )
        self.timer.add_event_source(
            event_sources.SqsEventSource(self.trade_timer, batch_size=10, report_batch_item_failures=True)
        )
        self.trade_timer.grant_consume_messages(self.timer)
        self.trade_timer.grant_send_messages(self.timer)  # a wait over SQS's 15 minutes goes round again
        self.orders.grant_send_messages(self.timer)
        self.executor.add_event_source(
            event_sources.SqsEventSource(self.orders, batch_size=BATCH_SIZE, report_batch_item_failures=True)
        )
        # The executor changes a message's visibility to retry it shortly.
        self.orders.grant_consume_messages(self.executor)

        self.dead_letter_consumer: lambda_.Function = functions.create(
            "DeadLetterFunction",
            handler="functions.dead_letters.handler.lambda_handler",
            description="Concludes trades the executor could not finish, from broker truth",
            timeout=EXECUTOR_TIMEOUT,
            environment=environment,
        )
        self.dead_letter_consumer.add_event_source(
            event_sources.SqsEventSource(
                self.dead_letters, batch_size=BATCH_SIZE, report_batch_item_failures=True
            )
        )

        self.sweeper: lambda_.Function = functions.create(
            "SweeperFunction",
            handler="functions.sweeper.handler.lambda_handler",
            description="Re-enqueues trade requests that are due again or whose message was lost",
            timeout=Duration.seconds(60),
            environment={
                Env.TABLE_NAME: environment[Env.TABLE_NAME],
                Env.TRADE_QUEUE_URL: self.orders.queue_url,
            },
        )
        self.orders.grant_send_messages(self.sweeper)
        events.Rule(
            self,
            "SweepSchedule",
            description="Runs the trade sweeper",
            schedule=events.Schedule.rate(SWEEP_EVERY),
            targets=[targets.LambdaFunction(self.sweeper, retry_attempts=2)],
        )

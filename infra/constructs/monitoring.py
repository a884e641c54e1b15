"""Alarms on the trade pipeline (anything that means a trade may be stuck or unexplained), on
account sync, on the webhook intake, on account operations at MetaApi and on live pushes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from infra.constructs.function_factory import METRICS_NAMESPACE, SERVICE_NAME

if TYPE_CHECKING:
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sqs as sqs

    from infra.constructs.notifications import Notifications
    from infra.constructs.provisioning import ProvisioningPipeline
    from infra.constructs.realtime import Realtime
    from infra.constructs.signals import SignalIntake
    from infra.constructs.sync import SyncPipeline
    from infra.constructs.trading import TradePipeline

# A market order expires after a minute by default: older messages mean the queue is stuck.
OLDEST_ORDER_SECONDS = 120
# Refused webhook requests in five minutes that look like someone trying secrets.
UNAUTHORIZED_BURST = 50
# Failed account operations in five minutes beyond what traders' typing mistakes explain.
PROVISIONING_FAILURE_BURST = 10


FIVE_MINUTES = Duration.minutes(5)


def count(name: str) -> cloudwatch.Metric:
    """One of the functions' own metrics, summed over five minutes."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": SERVICE_NAME},
        statistic="Sum",
        period=FIVE_MINUTES,
    )


def dead_letters(queue: sqs.IQueue) -> cloudwatch.Metric:
    """The messages waiting in a dead-letter queue."""
    return queue.metric_approximate_number_of_messages_visible(
        period=Duration.minutes(1), statistic="Maximum"
    )


def errors(function: lambda_.IFunction) -> cloudwatch.Metric:
    """A function's failed invocations, summed over five minutes."""
    return function.metric_errors(period=FIVE_MINUTES, statistic="Sum")


def more_than(
    scope: Construct, construct_id: str, description: str, metric: cloudwatch.IMetric, threshold: int
) -> cloudwatch.Alarm:
    return cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_description=description,
        metric=metric,
        threshold=threshold,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


def at_least_one(
    scope: Construct, construct_id: str, description: str, metric: cloudwatch.IMetric
) -> cloudwatch.Alarm:
    return cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_description=description,
        metric=metric,
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


class TradeMonitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, trading: TradePipeline) -> None:
        super().__init__(scope, construct_id)
        self.alarms = [
            at_least_one(
                self,
                "DeadLetters",
                "Trade messages reached the dead-letter queue",
                dead_letters(trading.dead_letters),
            ),
            at_least_one(
                self,
                "TimerDeadLetters",
                "Parked trades the trade timer could not hand back (the sweeper sends them late)",
                dead_letters(trading.timer_dead_letters),
            ),
            at_least_one(
                self,
                "ExecutorErrors",
                "The order executor failed invocations",
                errors(trading.executor),
            ),
            at_least_one(
                self,
                "TradeDeliveryFailures",
                "Trade deliveries failed on our side (DynamoDB, Secrets Manager, …) and were retried",
                count("TradeDeliveriesFailed"),
            ),
            cloudwatch.Alarm(
                self,
                "OldestOrder",
                alarm_description="An order has waited in the queue for over two minutes",
                metric=trading.orders.metric_approximate_age_of_oldest_message(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                threshold=OLDEST_ORDER_SECONDS,
                evaluation_periods=2,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            at_least_one(
                self,
                "UnknownTrades",
                "Trades ended UNKNOWN: the broker could not say whether they executed",
                count("TradesUnknown"),
            ),
        ]


class SyncMonitoring(Construct):
    """Alarms on account sync: failing syncs, stuck messages, a capped worker, lost connections."""

    def __init__(self, scope: Construct, construct_id: str, *, sync: SyncPipeline) -> None:
        super().__init__(scope, construct_id)
        self.alarms = [
            cloudwatch.Alarm(
                self,
                "SyncErrorRate",
                alarm_description="Over a fifth of account syncs failed in five minutes",
                metric=cloudwatch.MathExpression(
                    expression="100 * errors / MAX([errors + successes + partials, 1])",
                    using_metrics={
                        "errors": count("SyncsError"),
                        "successes": count("SyncsSuccess"),
                        "partials": count("SyncsPartial"),
                    },
                    period=FIVE_MINUTES,
                ),
                threshold=20,
                evaluation_periods=2,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            at_least_one(
                self,
                "SyncDeadLetters",
                "Sync messages reached the dead-letter queue",
                dead_letters(sync.dead_letters),
            ),
            at_least_one(
                self,
                "SyncThrottles",
                "The sync worker was throttled",
                sync.worker.metric_throttles(period=FIVE_MINUTES, statistic="Sum"),
            ),
            at_least_one(
                self,
                "AccountsDisconnected",
                "An account's terminal lost its broker connection",
                count("AccountDisconnected"),
            ),
        ]


class SignalMonitoring(Construct):
    """Alarms on the webhook intake: alerts it could not take, and a burst of refused senders."""

    def __init__(self, scope: Construct, construct_id: str, *, intake: SignalIntake) -> None:
        super().__init__(scope, construct_id)
        self.alarms = [
            at_least_one(
                self,
                "IntakeErrors",
                "The webhook intake failed to take alerts",
                cloudwatch.MathExpression(
                    expression="errors + failed",
                    using_metrics={
                        "errors": errors(intake.function),
                        "failed": count("SignalIntakeErrors"),
                    },
                    period=FIVE_MINUTES,
                ),
            ),
            more_than(
                self,
                "UnauthorizedBurst",
                f"Over {UNAUTHORIZED_BURST} webhook requests refused in five minutes",
                count("SignalsUnauthorized"),
                UNAUTHORIZED_BURST,
            ),
        ]


class ProvisioningMonitoring(Construct):
    """Alarms on account operations at MetaApi: a worker that keeps failing, messages it could not
    handle, a half-made MetaApi account left behind, and a burst of failed operations."""

    def __init__(self, scope: Construct, construct_id: str, *, provisioning: ProvisioningPipeline) -> None:
        super().__init__(scope, construct_id)
        self.alarms = [
            at_least_one(
                self,
                "ProvisioningDeadLetters",
                "Account operations reached the dead-letter queue: their accounts may stay in progress",
                dead_letters(provisioning.dead_letters),
            ),
            at_least_one(
                self,
                "ProvisioningErrors",
                "The provisioning worker failed invocations",
                errors(provisioning.worker),
            ),
            at_least_one(
                self,
                "ProvisioningCleanupsFailed",
                "A failed creation could not remove the MetaApi account it had begun: remove it by hand",
                count("ProvisioningCleanupsFailed"),
            ),
            more_than(
                self,
                "ProvisioningFailureBurst",
                f"Over {PROVISIONING_FAILURE_BURST} account operations failed in 5 minutes",
                count("ProvisioningFailed"),
                PROVISIONING_FAILURE_BURST,
            ),
        ]


class RealtimeMonitoring(Construct):
    """Alarms on live pushes: events the broadcaster could not push, and a failing price pump."""

    def __init__(self, scope: Construct, construct_id: str, *, realtime: Realtime) -> None:
        super().__init__(scope, construct_id)
        self.alarms = [
            at_least_one(
                self,
                "PushedEventDeadLetters",
                "Events the broadcaster could not push reached its dead-letter queue",
                dead_letters(realtime.events_dead_letters),
            ),
            at_least_one(
                self,
                "BroadcasterErrors",
                "The broadcaster failed invocations",
                errors(realtime.broadcaster),
            ),
            at_least_one(
                self,
                "PricePumpErrors",
                "The price pump failed invocations: live prices may have stopped",
                errors(realtime.pump),
            ),
        ]


class NotificationMonitoring(Construct):
    """Alarms on notifications: a channel that keeps failing (its dead letters), failing notifiers,
    and a failing Telegram bot."""

    def __init__(self, scope: Construct, construct_id: str, *, notifications: Notifications) -> None:
        super().__init__(scope, construct_id)
        self.alarms = [
            at_least_one(
                self,
                f"{channel.value.title()}NotificationDeadLetters",
                f"Notifications by {channel.value} kept failing and reached the dead-letter queue",
                dead_letters(queue),
            )
            for channel, queue in notifications.dead_letters.items()
        ]
        self.alarms += [
            at_least_one(
                self,
                f"{channel.value.title()}NotifierErrors",
                f"The {channel.value} notifier failed invocations",
                errors(notifier),
            )
            for channel, notifier in notifications.notifiers.items()
        ]
        self.alarms.append(
            at_least_one(
                self,
                "TelegramBotErrors",
                "The Telegram bot's webhook failed invocations",
                errors(notifications.bot),
            )
        )

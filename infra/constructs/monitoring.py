"""Alarms on the trade pipeline (anything that means a trade may be stuck or unexplained) and on
account sync."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from infra.constructs.function_factory import METRICS_NAMESPACE, SERVICE_NAME

if TYPE_CHECKING:
    from infra.constructs.sync import SyncPipeline
    from infra.constructs.trading import TradePipeline

# A market order expires after a minute by default: older messages mean the queue is stuck.
OLDEST_ORDER_SECONDS = 120


class TradeMonitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, trading: TradePipeline) -> None:
        super().__init__(scope, construct_id)
        five_minutes = Duration.minutes(5)
        self.alarms = [
            cloudwatch.Alarm(
                self,
                "DeadLetters",
                alarm_description="Trade messages reached the dead-letter queue",
                metric=trading.dead_letters.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "ExecutorErrors",
                alarm_description="The order executor failed invocations",
                metric=trading.executor.metric_errors(period=five_minutes, statistic="Sum"),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "TradeDeliveryFailures",
                alarm_description="Trade deliveries failed on our side (DynamoDB, Secrets Manager, …)",
                metric=cloudwatch.Metric(
                    namespace=METRICS_NAMESPACE,
                    metric_name="TradeDeliveriesFailed",
                    dimensions_map={"service": SERVICE_NAME},
                    statistic="Sum",
                    period=five_minutes,
                ),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
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
            cloudwatch.Alarm(
                self,
                "UnknownTrades",
                alarm_description="Trades ended UNKNOWN: the broker could not say whether they executed",
                metric=cloudwatch.Metric(
                    namespace=METRICS_NAMESPACE,
                    metric_name="TradesUnknown",
                    dimensions_map={"service": SERVICE_NAME},
                    statistic="Sum",
                    period=five_minutes,
                ),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]


class SyncMonitoring(Construct):
    """Alarms on account sync: failing syncs, stuck messages, a capped worker, lost connections."""

    def __init__(self, scope: Construct, construct_id: str, *, sync: SyncPipeline) -> None:
        super().__init__(scope, construct_id)
        five_minutes = Duration.minutes(5)

        def count(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=name,
                dimensions_map={"service": SERVICE_NAME},
                statistic="Sum",
                period=five_minutes,
            )

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
                    period=five_minutes,
                ),
                threshold=20,
                evaluation_periods=2,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            self._at_least_one(
                "SyncDeadLetters",
                "Sync messages reached the dead-letter queue",
                sync.dead_letters.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
            ),
            self._at_least_one(
                "SyncThrottles",
                "The sync worker was throttled",
                sync.worker.metric_throttles(period=five_minutes, statistic="Sum"),
            ),
            self._at_least_one(
                "AccountsDisconnected",
                "An account's terminal lost its broker connection",
                count("AccountDisconnected"),
            ),
        ]

    def _at_least_one(
        self, construct_id: str, description: str, metric: cloudwatch.IMetric
    ) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self,
            construct_id,
            alarm_description=description,
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

"""The single DynamoDB table: every item is owned by a user (`USER#…`) or an account (`ACCOUNT#…`)."""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

TTL_ATTRIBUTE = "ttl"
# Sparse index of unsettled trade requests, by when the sweeper should look at them again.
SWEEP_INDEX = "sweep"
# Sparse, sharded index of accounts that sync on a schedule, by when they are next due.
SYNC_DUE_INDEX = "syncDue"


def table(scope: Construct, construct_id: str, **props: Any) -> dynamodb.TableV2:
    """A table as every table here is: on demand, encrypted, recoverable to a point in time."""
    return dynamodb.TableV2(
        scope,
        construct_id,
        billing=dynamodb.Billing.on_demand(),
        encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        **props,
    )


class DataStore(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute=TTL_ATTRIBUTE,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=SWEEP_INDEX,
                    partition_key=dynamodb.Attribute(name="sweepShard", type=dynamodb.AttributeType.STRING),
                    sort_key=dynamodb.Attribute(name="sweepAt", type=dynamodb.AttributeType.STRING),
                    projection_type=dynamodb.ProjectionType.KEYS_ONLY,
                ),
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=SYNC_DUE_INDEX,
                    partition_key=dynamodb.Attribute(name="syncShard", type=dynamodb.AttributeType.STRING),
                    sort_key=dynamodb.Attribute(name="syncDueAt", type=dynamodb.AttributeType.STRING),
                    projection_type=dynamodb.ProjectionType.INCLUDE,
                    non_key_attributes=["metaapiAccountId", "syncInterval", "state", "syncBackoffUntil"],
                ),
            ],
            # Domain events are published from this stream, never by a second call after a write.
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            deletion_protection=True,
            # Accounts, trades and their audit trail outlive the stack.
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Idempotency keys of API calls (Powertools idempotency), kept 24 hours.
        self.idempotency = table(
            self,
            "Idempotency",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expiration",
            removal_policy=RemovalPolicy.DESTROY,
        )

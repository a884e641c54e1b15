"""Creates the template's tables and secrets in an AWS emulator and resolves function environments.

Used by the local stack (against moto's server) and by the integration tests (moto in-process).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from infra.local.serial_writes import serialize_dynamodb_writes

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sqs import SQSClient

# Value of the platform token secret in the local stack: there is no real MetaApi token here.
LOCAL_SECRET_VALUE = "local-placeholder"  # noqa: S105 - deliberately not a real token


@dataclass
class LocalResources:
    """Physical names of what was created, by the template's logical ids."""

    names: dict[str, str] = field(default_factory=dict)
    arns: dict[str, str] = field(default_factory=dict)

    def resolve(self, value: Any) -> str:
        """A template value as the local stack sees it: literals as they are, `Ref`s to local
        names (a queue's URL), `GetAtt …Arn` to local ARNs."""
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in self.names:
            return self.names[value["Ref"]]
        if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
            logical_id, attribute = value["Fn::GetAtt"]
            if attribute == "Arn" and logical_id in self.arns:
                return self.arns[logical_id]
        raise ValueError(f"the local stack cannot resolve {value!r}")


def resources_of(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def create_resources(
    template: dict[str, Any],
    *,
    dynamodb: DynamoDBClient,
    secretsmanager: SecretsManagerClient,
    sqs: SQSClient,
    events: EventBridgeClient,
    ses: SESClient | None = None,
) -> LocalResources:
    serialize_dynamodb_writes()
    created = LocalResources()
    _create_queues(sqs, template, created)
    for logical_id, bus in resources_of(template, "AWS::Events::EventBus").items():
        events.create_event_bus(Name=bus["Name"])
        created.names[logical_id] = bus["Name"]
    _create_queue_rules(events, template, created)
    for logical_id, table in resources_of(template, "AWS::DynamoDB::GlobalTable").items():
        created.names[logical_id] = _create_table(dynamodb, logical_id, table)
    for logical_id, secret in resources_of(template, "AWS::SecretsManager::Secret").items():
        name = secret.get("Name") or logical_id
        secretsmanager.create_secret(Name=name, SecretString=LOCAL_SECRET_VALUE)
        created.names[logical_id] = name
    if ses is not None:
        # Verified at once, as a sender identity is once its owner has clicked SES's link.
        for identity in resources_of(template, "AWS::SES::EmailIdentity").values():
            ses.verify_email_identity(EmailAddress=identity["EmailIdentity"])
    return created


def _create_queues(client: SQSClient, template: dict[str, Any], created: LocalResources) -> None:
    queues = resources_of(template, "AWS::SQS::Queue")
    for logical_id, queue in queues.items():
        attributes: dict[Any, str] = {"VisibilityTimeout": str(queue.get("VisibilityTimeout", 30))}
        if queue.get("FifoQueue"):
            attributes["FifoQueue"] = "true"
            attributes["ContentBasedDeduplication"] = str(
                bool(queue.get("ContentBasedDeduplication"))
            ).lower()
        name = f"{logical_id}.fifo" if queue.get("FifoQueue") else logical_id
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        created.names[logical_id] = url
        created.arns[logical_id] = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
    # Redrive policies last: they name dead-letter queues by ARN.
    for logical_id, queue in queues.items():
        if redrive := queue.get("RedrivePolicy"):
            policy = {
                "deadLetterTargetArn": created.resolve(redrive["deadLetterTargetArn"]),
                "maxReceiveCount": redrive["maxReceiveCount"],
            }
            client.set_queue_attributes(
                QueueUrl=created.names[logical_id], Attributes={"RedrivePolicy": json.dumps(policy)}
            )


def _create_queue_rules(client: EventBridgeClient, template: dict[str, Any], created: LocalResources) -> None:
    """The rules that route the bus's events into queues (moto delivers those; it cannot invoke a
    function, which scheduled rules target: see `schedules`)."""
    for logical_id, rule in resources_of(template, "AWS::Events::Rule").items():
        queues = [t for t in rule.get("Targets", []) if t["Arn"].get("Fn::GetAtt", [""])[0] in created.arns]
        if "EventPattern" not in rule or not queues:
            continue
        bus = created.resolve(rule["EventBusName"])
        client.put_rule(Name=logical_id, EventBusName=bus, EventPattern=json.dumps(rule["EventPattern"]))
        client.put_targets(
            Rule=logical_id,
            EventBusName=bus,
            Targets=[{"Id": target["Id"], "Arn": created.resolve(target["Arn"])} for target in queues],
        )


def _create_table(client: DynamoDBClient, name: str, table: dict[str, Any]) -> str:
    # TableV2 synthesizes AWS::DynamoDB::GlobalTable; its key schema maps onto CreateTable as-is.
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": table["KeySchema"],
        "AttributeDefinitions": table["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    indexes = [
        {"IndexName": index["IndexName"], "KeySchema": index["KeySchema"], "Projection": index["Projection"]}
        for index in table.get("GlobalSecondaryIndexes", [])
    ]
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    if "StreamSpecification" in table:
        request["StreamSpecification"] = {"StreamEnabled": True, **table["StreamSpecification"]}
    client.create_table(**request)
    ttl = table.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )
    return name


def function_environment(template: dict[str, Any], handler: str, resources: LocalResources) -> dict[str, str]:
    """The environment the stack gives the function with this handler, resolved to local names.
    Values only a deployment knows (the user pool's URLs, the WebSocket stage's) are left out:
    the local stack sets its own stand-ins."""
    # Imported here: the cold-start bench creates resources before any of our code may load.
    from mtcore.settings import Env

    deployment_only = {Env.JWKS_URL, Env.JWT_ISSUER, Env.JWT_AUDIENCE, Env.WEBSOCKET_MANAGEMENT_URL}
    for function in resources_of(template, "AWS::Lambda::Function").values():
        if function.get("Handler") == handler:
            variables = function.get("Environment", {}).get("Variables", {})
            return {
                name: resources.resolve(value)
                for name, value in variables.items()
                if name not in deployment_only
            }
    raise LookupError(f"no function with handler {handler} in the template")


@dataclass(frozen=True)
class QueueSubscription:
    """A function fed by a queue, as the template's event source mapping says."""

    handler: str
    queue_url: str
    queue_arn: str
    batch_size: int
    reports_batch_item_failures: bool
    # How long a batch gathers messages before the function gets it, unless it fills first.
    batching_window_seconds: float = 0.0


def queue_subscriptions(template: dict[str, Any], resources: LocalResources) -> list[QueueSubscription]:
    functions = resources_of(template, "AWS::Lambda::Function")
    subscriptions = []
    for mapping in resources_of(template, "AWS::Lambda::EventSourceMapping").values():
        queue_id = mapping["EventSourceArn"]["Fn::GetAtt"][0]
        if queue_id not in resources_of(template, "AWS::SQS::Queue"):
            continue  # a table stream: see stream_subscriptions
        function = functions[mapping["FunctionName"]["Ref"]]
        subscriptions.append(
            QueueSubscription(
                handler=function["Handler"],
                queue_url=resources.names[queue_id],
                queue_arn=resources.arns[queue_id],
                batch_size=int(mapping.get("BatchSize", 10)),
                reports_batch_item_failures="ReportBatchItemFailures"
                in mapping.get("FunctionResponseTypes", []),
                batching_window_seconds=float(mapping.get("MaximumBatchingWindowInSeconds", 0)),
            )
        )
    return subscriptions


@dataclass(frozen=True)
class Schedule:
    """A function on an EventBridge schedule, as the template's rule says."""

    handler: str
    every_seconds: float


_RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def schedules(template: dict[str, Any]) -> list[Schedule]:
    functions = resources_of(template, "AWS::Lambda::Function")
    found = []
    for rule in resources_of(template, "AWS::Events::Rule").values():
        expression = rule.get("ScheduleExpression", "")
        if not expression.startswith("rate("):
            continue
        amount, unit = expression.removeprefix("rate(").removesuffix(")").split()
        for target in rule.get("Targets", []):
            logical_id = target["Arn"]["Fn::GetAtt"][0]
            found.append(Schedule(functions[logical_id]["Handler"], float(amount) * _RATE_UNITS[unit]))
    return found


@dataclass(frozen=True)
class StreamSubscription:
    """A function fed by a table's stream."""

    handler: str
    table_name: str
    batch_size: int


def stream_subscriptions(template: dict[str, Any], resources: LocalResources) -> list[StreamSubscription]:
    functions = resources_of(template, "AWS::Lambda::Function")
    tables = resources_of(template, "AWS::DynamoDB::GlobalTable")
    found = []
    for mapping in resources_of(template, "AWS::Lambda::EventSourceMapping").values():
        source_id, attribute = mapping["EventSourceArn"]["Fn::GetAtt"]
        if source_id in tables and attribute == "StreamArn":
            function = functions[mapping["FunctionName"]["Ref"]]
            batch = int(mapping.get("BatchSize", 100))
            found.append(StreamSubscription(function["Handler"], resources.names[source_id], batch))
    return found

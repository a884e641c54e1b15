"""Cached boto3 clients, one per container.

boto3 is imported on first use, not at module import, so functions that never touch a service
never pay for it. Endpoints follow the standard AWS_ENDPOINT_URL variables, which is how the
local stack points functions at its in-process AWS emulator.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from mtcore.observability import time_aws_calls

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sqs import SQSClient

# Short timeouts: API functions must answer well inside API Gateway's 29 s.
_CONNECT_TIMEOUT_S = 2
_READ_TIMEOUT_S = 5


def _config() -> Config:
    from botocore.config import Config

    return Config(
        connect_timeout=_CONNECT_TIMEOUT_S,
        read_timeout=_READ_TIMEOUT_S,
        retries={"mode": "standard", "max_attempts": 3},
    )


@lru_cache(maxsize=1)
def dynamodb_client() -> DynamoDBClient:
    import boto3

    client = boto3.client("dynamodb", config=_config())
    time_aws_calls(client, "DynamoDB")
    return client


@lru_cache(maxsize=1)
def secretsmanager_client() -> SecretsManagerClient:
    import boto3

    client = boto3.client("secretsmanager", config=_config())
    time_aws_calls(client, "SecretsManager")
    return client


@lru_cache(maxsize=1)
def sqs_client() -> SQSClient:
    import boto3

    client = boto3.client("sqs", config=_config())
    time_aws_calls(client, "SQS")
    return client


@lru_cache(maxsize=1)
def events_client() -> EventBridgeClient:
    import boto3

    client = boto3.client("events", config=_config())
    time_aws_calls(client, "EventBridge")
    return client


@lru_cache(maxsize=1)
def ses_client() -> SESClient:
    import boto3

    client = boto3.client("ses", config=_config())
    time_aws_calls(client, "SES")
    return client


@lru_cache(maxsize=4)
def management_client(endpoint: str) -> ApiGatewayManagementApiClient:
    """API Gateway's management API of one WebSocket stage (`https://{api}.execute-api…/{stage}`)."""
    import boto3

    client = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, config=_config())
    time_aws_calls(client, "ApiGatewayManagement")
    return client


def reset_clients() -> None:
    """Forget cached clients (tests switch AWS endpoints between runs)."""
    management_client.cache_clear()
    ses_client.cache_clear()
    dynamodb_client.cache_clear()
    secretsmanager_client.cache_clear()
    sqs_client.cache_clear()
    events_client.cache_clear()

"""Idempotency keys of trade calls, in their own table (`id`: a digest of tenant, route and key;
`expiration`: the table's TTL), kept 24 hours.

A key is claimed before anything is written, and the claim names the trade request id the key
stands for. A repeat of the call finds the claim whatever became of the first one (it failed
after writing, its function timed out or crashed, or it is still running) and carries on under
the same request id: one key can never stand for two trade requests."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from mtcore.aws import dynamodb_client
from mtcore.errors import InvalidInput
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEEP = timedelta(hours=24)
KEY_FIELD = "header.Idempotency-Key"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def body_digest(body: dict[str, Any]) -> str:
    return _digest(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str))


class IdempotencyKeys:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def claim(
        self, *, tenant: str, route: str, key: str, body: dict[str, Any], trade_id: str, now: datetime
    ) -> str:
        """The trade request id the key stands for: `trade_id` when this call is the first to use
        the key on this route within 24 hours, else the first call's. A key used before with
        another body is refused."""
        key_id = {"S": _digest(tenant, route, key)}
        digest = body_digest(body)
        try:
            self._client.put_item(
                TableName=self._table_name,
                Item={
                    "id": key_id,
                    "tradeId": {"S": trade_id},
                    "bodyDigest": {"S": digest},
                    "expiration": {"N": str(int((now + KEEP).timestamp()))},
                },
                # TTL deletes lazily: a claim past its expiration counts as gone.
                ConditionExpression="attribute_not_exists(id) OR expiration < :now",
                ExpressionAttributeValues={":now": {"N": str(int(now.timestamp()))}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            claimed = self._client.get_item(
                TableName=self._table_name, Key={"id": key_id}, ConsistentRead=True
            )["Item"]
            if claimed["bodyDigest"]["S"] != digest:
                raise InvalidInput(KEY_FIELD, "was already used with a different request body") from None
            return claimed["tradeId"]["S"]
        return trade_id


def get_idempotency_keys() -> IdempotencyKeys:
    table = get_settings().idempotency_table_name
    if not table:
        raise RuntimeError("IDEMPOTENCY_TABLE_NAME is not configured")
    return IdempotencyKeys(dynamodb_client(), table)

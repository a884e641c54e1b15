"""Batch writes that finish: DynamoDB may hand back unprocessed items under load."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_BATCH = 25
_ATTEMPTS = 6


def batch_write(client: DynamoDBClient, table_name: str, requests: list[dict[str, Any]]) -> None:
    """Put and delete requests (`{"PutRequest": …}` / `{"DeleteRequest": …}`), 25 at a time."""
    for start in range(0, len(requests), _BATCH):
        pending: dict[str, Any] = {table_name: requests[start : start + _BATCH]}
        for attempt in range(_ATTEMPTS):
            answer = client.batch_write_item(RequestItems=pending)
            pending = dict(answer.get("UnprocessedItems") or {})
            if not pending:
                break
            time.sleep(0.05 * 2**attempt)
        else:
            raise RuntimeError(f"DynamoDB left {len(pending[table_name])} writes unprocessed")

"""Webhooks and their signal log in the table.

| item | pk | sk |
|---|---|---|
| webhook, listed by owner | `USER#{userId}` | `WEBHOOK#{id}` |
| webhook, read by the intake | `WEBHOOK#{id}` | `META` |
| signal (30 days, TTL) | `WEBHOOK#{id}` | `SIGNAL#{ulid}` |
| duplicate guard (TTL) | `WEBHOOK#{id}` | `DEDUPE#{signalId or fingerprint}` |
| rate counter, per minute (TTL) | `WEBHOOK#{id}` | `RATE#{minute}` |

An accepted alert is one transaction: the minute's count, the duplicate guard, the signal and
its trade requests, so a duplicate or an alert over the limit writes none of them, and no trade
request exists without its signal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from mtcore.aws import dynamodb_client
from mtcore.errors import NotFound
from mtcore.settings import get_settings
from mtcore.signals.models import Signal, StoredWebhook
from mtcore.store.codec import from_item, plain, to_item
from mtcore.store.keys import META_SK, user_pk
from mtcore.store.pagination import decode_token, encode_token
from mtcore.trading import item_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from mtcore.trading import TradeRequest

SIGNAL_KEEP = timedelta(days=30)
SIGNAL_ID_KEEP = timedelta(days=30)  # a sender's signalId is refused again for as long as its log
_TTL = "ttl"  # as infra/constructs/data.py names the table's TTL attribute


def webhook_pk(webhook_id: str) -> str:
    return f"WEBHOOK#{webhook_id}"


def _webhook_sk(webhook_id: str) -> str:
    return f"WEBHOOK#{webhook_id}"


def _ttl(at: datetime) -> dict[str, str]:
    return {"N": str(int(at.timestamp()))}


class Refusal(Enum):
    DUPLICATE = "duplicate"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class Accepted:
    """An alert to record: the guard it claims, and what it writes."""

    signal: Signal
    dedupe_key: str
    dedupe_until: datetime
    minute: int
    rate_limit: int
    trades: list[TradeRequest]


class SignalsRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    # Webhooks ---------------------------------------------------------------------------------

    def _webhook_items(self, webhook: StoredWebhook) -> list[dict[str, Any]]:
        body = plain(webhook.model_dump(exclude={"url"})) | {"entity": "WEBHOOK", "userId": webhook.user_id}
        return [
            to_item(body | {"pk": user_pk(webhook.user_id), "sk": _webhook_sk(webhook.id)}),
            to_item(body | {"pk": webhook_pk(webhook.id), "sk": META_SK}),
        ]

    def put_webhook(self, webhook: StoredWebhook, *, new: bool) -> None:
        condition = "attribute_not_exists(pk)" if new else "attribute_exists(pk)"
        self._client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self._table_name, "Item": item, "ConditionExpression": condition}}
                for item in self._webhook_items(webhook)
            ]
        )

    def delete_webhook(self, webhook: StoredWebhook) -> None:
        self._client.transact_write_items(
            TransactItems=[
                {"Delete": {"TableName": self._table_name, "Key": {"pk": item["pk"], "sk": item["sk"]}}}
                for item in self._webhook_items(webhook)
            ]
        )

    def webhook(self, webhook_id: str) -> StoredWebhook | None:
        """The intake's read: by id alone, consistent (a rotated secret stops working at once)."""
        answer = self._client.get_item(
            TableName=self._table_name,
            Key={"pk": {"S": webhook_pk(webhook_id)}, "sk": {"S": META_SK}},
            ConsistentRead=True,
        )
        return StoredWebhook.model_validate(from_item(answer["Item"])) if "Item" in answer else None

    def owned_webhook(self, user_id: str, webhook_id: str) -> StoredWebhook:
        answer = self._client.get_item(
            TableName=self._table_name,
            Key={"pk": {"S": user_pk(user_id)}, "sk": {"S": _webhook_sk(webhook_id)}},
            ConsistentRead=True,
        )
        if "Item" not in answer:
            raise NotFound(f"No webhook {webhook_id}")
        return StoredWebhook.model_validate(from_item(answer["Item"]))

    def webhooks_of(self, user_id: str) -> list[StoredWebhook]:
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": user_pk(user_id)}, ":prefix": {"S": "WEBHOOK#"}},
        )
        return [
            StoredWebhook.model_validate(from_item(raw)) for page in pages for raw in page.get("Items", [])
        ]

    # Signals ----------------------------------------------------------------------------------

    def _signal_item(self, signal: Signal) -> dict[str, Any]:
        return to_item(
            plain(signal)
            | {"pk": webhook_pk(signal.webhook_id), "sk": f"SIGNAL#{signal.id}", "entity": "SIGNAL"}
        ) | {_TTL: _ttl(signal.received_at + SIGNAL_KEEP)}

    def put_signal(self, signal: Signal) -> None:
        """A request that made no trade (refused, invalid, a duplicate): logged on its own."""
        self._client.put_item(TableName=self._table_name, Item=self._signal_item(signal))

    def accept(self, accepted: Accepted) -> Refusal | None:
        """Record the alert with its trade requests in one transaction; or why nothing was."""
        signal = accepted.signal
        pk = {"S": webhook_pk(signal.webhook_id)}
        now = signal.received_at
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table_name,
                    "Key": {"pk": pk, "sk": {"S": f"RATE#{accepted.minute}"}},
                    "UpdateExpression": "ADD hits :one SET #ttl = :ttl",
                    "ConditionExpression": "attribute_not_exists(hits) OR hits < :limit",
                    "ExpressionAttributeNames": {"#ttl": _TTL},
                    "ExpressionAttributeValues": {
                        ":one": {"N": "1"},
                        ":limit": {"N": str(accepted.rate_limit)},
                        ":ttl": _ttl(now + timedelta(minutes=5)),
                    },
                }
            },
            {
                "Put": {
                    "TableName": self._table_name,
                    "Item": {
                        "pk": pk,
                        "sk": {"S": f"DEDUPE#{accepted.dedupe_key}"},
                        "signal": {"S": signal.id},
                        "until": {"S": accepted.dedupe_until.isoformat()},
                        _TTL: _ttl(accepted.dedupe_until),
                    },
                    # TTL deletes lazily: a guard past its time counts as gone.
                    "ConditionExpression": "attribute_not_exists(pk) OR #until < :now",
                    "ExpressionAttributeNames": {"#until": "until"},
                    "ExpressionAttributeValues": {":now": {"S": now.isoformat()}},
                }
            },
            {"Put": {"TableName": self._table_name, "Item": self._signal_item(signal)}},
            *(
                {
                    "Put": {
                        "TableName": self._table_name,
                        "Item": item,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
                for item in map(item_of, accepted.trades)
            ),
        ]
        try:
            self._client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except self._client.exceptions.TransactionCanceledException as canceled:
            reasons = [reason.get("Code") for reason in canceled.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return Refusal.RATE_LIMITED
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                return Refusal.DUPLICATE
            raise
        return None

    def duplicate_of(self, webhook_id: str, dedupe_key: str) -> str | None:
        """The signal that claimed the guard first."""
        answer = self._client.get_item(
            TableName=self._table_name,
            Key={"pk": {"S": webhook_pk(webhook_id)}, "sk": {"S": f"DEDUPE#{dedupe_key}"}},
            ConsistentRead=True,
        )
        return answer["Item"]["signal"]["S"] if "Item" in answer else None

    def signal(self, webhook_id: str, signal_id: str) -> Signal:
        answer = self._client.get_item(
            TableName=self._table_name,
            Key={"pk": {"S": webhook_pk(webhook_id)}, "sk": {"S": f"SIGNAL#{signal_id}"}},
        )
        if "Item" not in answer:
            raise NotFound(f"No signal {signal_id} on this webhook")
        return _signal_of(answer["Item"])

    def signals(
        self, webhook_id: str, *, limit: int, next_token: str | None
    ) -> tuple[list[Signal], str | None]:
        """Newest first (ids are time-ordered)."""
        pk = webhook_pk(webhook_id)
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": "SIGNAL#"}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        start_key = decode_token(next_token, expected_pk=pk)
        if start_key:
            request["ExclusiveStartKey"] = start_key
        answer = self._client.query(**request)
        return [_signal_of(raw) for raw in answer.get("Items", [])], encode_token(
            answer.get("LastEvaluatedKey")
        )


def _signal_of(item: dict[str, Any]) -> Signal:
    return Signal.model_validate(from_item(item))


def get_signals_repository() -> SignalsRepository:
    return SignalsRepository(dynamodb_client(), get_settings().table_name)

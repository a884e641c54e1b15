"""Trade requests (`ACCOUNT#{id}` / `TRADE#{ulid}`). A status changes only by a conditional
update from the statuses the caller expects, and every change appends to the request's timeline."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from mtcore.aws import dynamodb_client
from mtcore.errors import Conflict, NotFound
from mtcore.ids import ulid_floor
from mtcore.settings import get_settings
from mtcore.store.codec import from_item, plain, to_item
from mtcore.store.keys import IN_FLIGHT_ATTRIBUTE, account_pk, trade_sk
from mtcore.store.pagination import decode_token, encode_token
from mtcore.trading.models import SETTLED, TradeRequest, TradeStatus, Transition
from mtcore.trading.sweeper import sweep_at, sweep_shard

if TYPE_CHECKING:
    from collections.abc import Collection

    from mypy_boto3_dynamodb import DynamoDBClient

ENTITY = "TRADE"
SWEEP_INDEX = "sweep"  # as infra/constructs/data.py names it


class TransitionRefused(Conflict):
    """The request was not in an expected status: someone else moved it first."""

    code = "TRADE_STATUS_CHANGED"


def item_of(request: TradeRequest) -> dict[str, Any]:
    """A new request as stored: in the sweep index until it settles (a crash before its message
    is sent leaves it for the sweeper)."""
    item = plain(request) | {
        "pk": account_pk(request.account_id),
        "sk": trade_sk(request.id),
        "entity": ENTITY,
        "userId": request.user_id,
        IN_FLIGHT_ATTRIBUTE: sweep_shard(request.account_id),
        "sweepAt": sweep_at(request.status, request.created_at, request.not_before).isoformat(),
    }
    return to_item(item)


class TradesRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def put_new(self, request: TradeRequest) -> bool:
        """Write a new request; False when one with its id is stored already (a repeat of the
        call that created it, or the client's own retry of a write that had gone through)."""
        try:
            self._client.put_item(
                TableName=self._table_name,
                Item=item_of(request),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get(self, account_id: str, request_id: str) -> TradeRequest:
        request = self.find(account_id, request_id)
        if request is None:
            raise NotFound(f"No trade request {request_id}")
        return request

    def find(self, account_id: str, request_id: str) -> TradeRequest | None:
        answer = self._client.get_item(
            TableName=self._table_name,
            Key={"pk": {"S": account_pk(account_id)}, "sk": {"S": trade_sk(request_id)}},
            ConsistentRead=True,
        )
        return TradeRequest.model_validate(from_item(answer["Item"])) if "Item" in answer else None

    def transition(
        self,
        request: TradeRequest,
        to: TradeStatus,
        *,
        expected: Collection[TradeStatus],
        at: datetime,
        note: str | None = None,
        changes: dict[str, Any] | None = None,
        count_attempt: bool = False,
    ) -> TradeRequest:
        """Move the request to `to` if it is still in one of `expected` and unchanged since it was
        read (`request.updated_at`): two deciders (the executor and the dead-letter consumer, say)
        never both act on one state. Answers the new state."""
        names = {"#status": "status", "#updatedAt": "updatedAt", "#timeline": "timeline"}
        values: dict[str, Any] = {
            ":to": to.value,
            ":at": at.isoformat(),
            ":seen": request.updated_at.isoformat(),
            ":entry": [plain(Transition(status=to, at=at, note=note))],
        }
        assignments = ["#status = :to", "#updatedAt = :at", "#timeline = list_append(#timeline, :entry)"]
        for number, (field, value) in enumerate((changes or {}).items()):
            alias = TradeRequest.model_fields[field].alias or field
            names[f"#c{number}"] = alias
            values[f":c{number}"] = plain(value)
            assignments.append(f"#c{number} = :c{number}")
        names |= {"#sweepShard": "sweepShard", "#sweepAt": "sweepAt"}
        removals = []
        if to in SETTLED:
            removals = ["#sweepShard", "#sweepAt"]  # out of the sparse index: nothing left to sweep
        else:
            not_before = (changes or {}).get("not_before", request.not_before)
            values[":shard"] = sweep_shard(request.account_id)
            values[":sweepAt"] = sweep_at(to, at, not_before).isoformat()
            assignments += ["#sweepShard = :shard", "#sweepAt = :sweepAt"]
        expected_names = []
        for number, status in enumerate(expected):
            values[f":e{number}"] = status.value
            expected_names.append(f":e{number}")
        update = "SET " + ", ".join(assignments)
        if removals:
            update += " REMOVE " + ", ".join(removals)
        if count_attempt:
            names["#attempts"] = "attempts"
            values[":one"] = 1
            update += " ADD #attempts :one"
        try:
            answer = self._client.update_item(
                TableName=self._table_name,
                Key={"pk": {"S": account_pk(request.account_id)}, "sk": {"S": trade_sk(request.id)}},
                UpdateExpression=update,
                ConditionExpression=f"#status IN ({', '.join(expected_names)}) AND #updatedAt = :seen",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values),
                ReturnValues="ALL_NEW",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            moved = f"changed since it was read, or is no longer {' or '.join(expected)}"
            raise TransitionRefused(f"Trade request {request.id} {moved}") from None
        return TradeRequest.model_validate(from_item(answer["Attributes"]))

    def postpone_sweep(self, request: TradeRequest, until: datetime) -> bool:
        """Look at the request again at `until`, if it is still as it was; False if it moved."""
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key={"pk": {"S": account_pk(request.account_id)}, "sk": {"S": trade_sk(request.id)}},
                UpdateExpression="SET sweepAt = :until",
                ConditionExpression="#status = :status AND updatedAt = :updated",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":until": {"S": until.isoformat()},
                    ":status": {"S": request.status.value},
                    ":updated": {"S": request.updated_at.isoformat()},
                },
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def due_for_sweep(self, shard: str, now: datetime, *, limit: int = 100) -> list[tuple[str, str]]:
        """(account id, request id) of unsettled requests whose sweep time has passed."""
        answer = self._client.query(
            TableName=self._table_name,
            IndexName=SWEEP_INDEX,
            KeyConditionExpression="sweepShard = :shard AND sweepAt <= :now",
            ExpressionAttributeValues={":shard": {"S": shard}, ":now": {"S": now.isoformat()}},
            Limit=limit,
        )
        return [
            (item["pk"]["S"].removeprefix("ACCOUNT#"), item["sk"]["S"].removeprefix("TRADE#"))
            for item in answer.get("Items", [])
        ]

    def list_for_account(
        self, account_id: str, *, status: TradeStatus | None, limit: int, next_token: str | None
    ) -> tuple[list[TradeRequest], str | None]:
        """Newest first (ids are time-ordered)."""
        pk = account_pk(account_id)
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": "TRADE#"}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if status is not None:
            request["FilterExpression"] = "#status = :status"
            request["ExpressionAttributeNames"] = {"#status": "status"}
            request["ExpressionAttributeValues"][":status"] = {"S": status.value}
        start_key = decode_token(next_token, expected_pk=pk)
        if start_key:
            request["ExclusiveStartKey"] = start_key
        answer = self._client.query(**request)
        items = [TradeRequest.model_validate(from_item(raw)) for raw in answer.get("Items", [])]
        return items, encode_token(answer.get("LastEvaluatedKey"))

    def created_since(self, account_id: str, since: datetime) -> list[TradeRequest]:
        """Every request of the account created at or after `since`, oldest first."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table_name,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": account_pk(account_id)},
                ":low": {"S": trade_sk(ulid_floor(int(since.timestamp() * 1000)))},
                ":high": {"S": "TRADE#~"},
            },
        )
        return [
            TradeRequest.model_validate(from_item(raw)) for page in pages for raw in page.get("Items", [])
        ]


def get_trades_repository() -> TradesRepository:
    return TradesRepository(dynamodb_client(), get_settings().table_name)

"""Open positions of an account, as last read from MetaApi (`ACCOUNT#{id}` / `POS#OPEN#{positionId}`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mtcore.aws import dynamodb_client
from mtcore.errors import NotFound
from mtcore.metaapi.models import Position
from mtcore.repositories.batch import batch_write
from mtcore.repositories.codec import from_item, to_item
from mtcore.repositories.keys import OPEN_POSITION_PREFIX, account_pk, open_position_sk
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ENTITY = "POSITION"
_TIMESTAMPS = ("time", "updateTime")


class PositionsRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def list_open(self, account_id: str) -> list[Position]:
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": account_pk(account_id)},
                ":prefix": {"S": OPEN_POSITION_PREFIX},
            },
        )
        return [_position_of(raw) for page in pages for raw in page.get("Items", [])]

    def get_open(self, account_id: str, position_id: str) -> Position:
        answer = self._client.get_item(
            TableName=self._table_name,
            Key={"pk": {"S": account_pk(account_id)}, "sk": {"S": open_position_sk(position_id)}},
        )
        if "Item" not in answer:
            raise NotFound(f"No open position {position_id} on this account")
        return _position_of(answer["Item"])

    def store_open(self, account_id: str, live: list[Position], stored: list[Position]) -> int:
        """Write the live positions that differ from the stored ones; answers how many were written.

        Positions missing from the live list are not removed here: a position is closed only when
        its closing deal is found (a reconnecting terminal can answer an empty list)."""
        known = {position.id: position for position in stored}
        changed = [position for position in live if known.get(position.id) != position]
        batch_write(
            self._client,
            self._table_name,
            [{"PutRequest": {"Item": self._item(account_id, position)}} for position in changed],
        )
        return len(changed)

    def _item(self, account_id: str, position: Position) -> dict[str, Any]:
        item = position.model_dump(mode="python", by_alias=True, exclude_none=True)
        for stamp in _TIMESTAMPS:
            if stamp in item:
                item[stamp] = item[stamp].isoformat()
        item |= {"pk": account_pk(account_id), "sk": open_position_sk(position.id), "entity": ENTITY}
        return to_item(item)


def _position_of(raw: dict[str, Any]) -> Position:
    return Position.model_validate(from_item(raw))


def get_positions_repository() -> PositionsRepository:
    return PositionsRepository(dynamodb_client(), get_settings().table_name)

"""An account's open positions and pending orders, as last read from MetaApi
(`ACCOUNT#{id}` / `POS#OPEN#{positionId}` and `ORDER#{orderId}`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from mtcore.aws import dynamodb_client
from mtcore.errors import NotFound
from mtcore.metaapi.models import Order, Position
from mtcore.repositories.batch import batch_write
from mtcore.repositories.codec import from_item, to_item
from mtcore.repositories.keys import OPEN_POSITION_PREFIX, ORDER_PREFIX, account_pk, sortable_time
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from datetime import datetime

    from mypy_boto3_dynamodb import DynamoDBClient

ItemT = TypeVar("ItemT", Position, Order)
# Quotes and floating profit move on every tick: a record whose only change is one of these is
# not rewritten (the stored copy shows them as of its last real change; `?live=true` reads now).
_MOVES_WITH_THE_MARKET = {"current_price", "profit", "unrealized_profit"}


def changed(stored: ItemT | None, live: ItemT) -> bool:
    """Whether the broker's record differs from the stored one in anything but the market's move."""
    if stored is None:
        return True
    return stored.model_dump(exclude=_MOVES_WITH_THE_MARKET) != live.model_dump(
        exclude=_MOVES_WITH_THE_MARKET
    )


_TIMESTAMPS = ("time", "updateTime", "expirationTime")


class OpenItemsRepository(Generic[ItemT]):
    """Snapshots of open broker records of one kind, keyed by their broker id."""

    def __init__(
        self, client: DynamoDBClient, table_name: str, *, model: type[ItemT], prefix: str, entity: str
    ) -> None:
        self._client = client
        self._table_name = table_name
        self._model: type[ItemT] = model
        self._prefix = prefix
        self._entity = entity

    def list_open(self, account_id: str) -> list[ItemT]:
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": account_pk(account_id)}, ":prefix": {"S": self._prefix}},
        )
        return [self._of(raw) for page in pages for raw in page.get("Items", [])]

    def get_open(self, account_id: str, item_id: str) -> ItemT:
        answer = self._client.get_item(TableName=self._table_name, Key=self._key(account_id, item_id))
        if "Item" not in answer:
            raise NotFound(f"No open {self._entity.lower()} {item_id} on this account")
        return self._of(answer["Item"])

    def store_open(self, account_id: str, live: list[ItemT], stored: list[ItemT]) -> int:
        """Write the live items that differ from the stored ones; answers how many were written.

        Items missing from the live list are not removed here: a reconnecting terminal can answer
        an empty list, so only a known outcome (a close, a cancel, a closing deal) removes one."""
        known = {item.id: item for item in stored}
        different = [item for item in live if changed(known.get(item.id), item)]
        batch_write(
            self._client,
            self._table_name,
            [{"PutRequest": {"Item": self._item(account_id, item)}} for item in different],
        )
        return len(different)

    def remove(self, account_id: str, item_ids: list[str]) -> None:
        """Forget items the broker confirmed gone (closed by our trade, canceled)."""
        batch_write(
            self._client,
            self._table_name,
            [{"DeleteRequest": {"Key": self._key(account_id, item_id)}} for item_id in item_ids],
        )

    def put_if_newer(self, account_id: str, item: ItemT, *, snapshot_at: datetime) -> bool:
        """Store an item read at `snapshot_at`, unless the stored copy was read later (a slower
        sync must not undo a faster one's newer read); answers whether it was written."""
        item_with_time = self._item(account_id, item) | {"snapshotAt": {"S": sortable_time(snapshot_at)}}
        try:
            self._client.put_item(
                TableName=self._table_name,
                Item=item_with_time,
                **_older_than(snapshot_at),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def remove_if_older(self, account_id: str, item_id: str, *, snapshot_at: datetime) -> bool:
        """Forget an item the broker confirmed gone as of `snapshot_at`, unless it was stored from
        a later read; answers whether it was removed (or already absent)."""
        try:
            self._client.delete_item(
                TableName=self._table_name, Key=self._key(account_id, item_id), **_older_than(snapshot_at)
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _key(self, account_id: str, item_id: str) -> dict[str, Any]:
        return {"pk": {"S": account_pk(account_id)}, "sk": {"S": f"{self._prefix}{item_id}"}}

    def _item(self, account_id: str, item: ItemT) -> dict[str, Any]:
        body = item.model_dump(mode="python", by_alias=True, exclude_none=True)
        for stamp in _TIMESTAMPS:
            if stamp in body:
                body[stamp] = body[stamp].isoformat()
        return to_item(body) | self._key(account_id, item.id) | {"entity": {"S": self._entity}}

    def _of(self, raw: dict[str, Any]) -> ItemT:
        item: ItemT = self._model.model_validate(from_item(raw))
        return item


def _older_than(snapshot_at: datetime) -> dict[str, Any]:
    """The write condition of a sync: the stored copy, if any, was read before `snapshot_at`
    (copies stored without a read time, by a trade or a live read, count as older)."""
    return {
        "ConditionExpression": "attribute_not_exists(snapshotAt) OR snapshotAt < :at",
        "ExpressionAttributeValues": {":at": {"S": sortable_time(snapshot_at)}},
    }


PositionsRepository = OpenItemsRepository[Position]
OrdersRepository = OpenItemsRepository[Order]


def get_positions_repository() -> PositionsRepository:
    return OpenItemsRepository(
        dynamodb_client(),
        get_settings().table_name,
        model=Position,
        prefix=OPEN_POSITION_PREFIX,
        entity="POSITION",
    )


def get_orders_repository() -> OrdersRepository:
    return OpenItemsRepository(
        dynamodb_client(), get_settings().table_name, model=Order, prefix=ORDER_PREFIX, entity="ORDER"
    )

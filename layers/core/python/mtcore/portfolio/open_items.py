"""An account's open positions and pending orders, as last read from MetaApi
(`ACCOUNT#{id}` / `POS#OPEN#{positionId}` and `ORDER#{orderId}`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from mtcore.aws import dynamodb_client
from mtcore.errors import NotFound
from mtcore.metaapi.models import Order, Position
from mtcore.settings import get_settings
from mtcore.store.codec import from_item, to_item
from mtcore.store.keys import OPEN_POSITION_PREFIX, ORDER_PREFIX, account_pk, sortable_time

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import PutTypeDef

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
# A closed position or a done order leaves a marker under its open key for this long: a read
# taken before it closed, written late (a live read, a trade's refresh), cannot bring it back.
GONE_KEPT = timedelta(days=1)


def gone_marker(table_name: str, key: dict[str, Any], entity: str, snapshot_at: datetime) -> PutTypeDef:
    """The put that replaces an open item the broker confirmed gone as of `snapshot_at`, unless
    it was stored from a later read (alone, or as part of a transaction)."""
    return {
        "TableName": table_name,
        "Item": key
        | {
            "entity": {"S": f"{entity}_GONE"},
            "snapshotAt": {"S": sortable_time(snapshot_at)},
            "ttl": {"N": str(int((snapshot_at + GONE_KEPT).timestamp()))},
        },
        "ConditionExpression": "attribute_not_exists(snapshotAt) OR snapshotAt < :at",
        "ExpressionAttributeValues": {":at": {"S": sortable_time(snapshot_at)}},
    }


class OpenItemsRepository(Generic[ItemT]):
    """Snapshots of open broker records of one kind, keyed by their broker id. Every write says
    when its snapshot was read and lands only over an older one, and never over a record the
    broker confirmed gone: that one is replaced by a marker, never simply deleted."""

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
            FilterExpression="entity = :entity",
            ExpressionAttributeValues={
                ":pk": {"S": account_pk(account_id)},
                ":prefix": {"S": self._prefix},
                ":entity": {"S": self._entity},
            },
        )
        return [self._of(raw) for page in pages for raw in page.get("Items", [])]

    def get_open(self, account_id: str, item_id: str) -> ItemT:
        answer = self._client.get_item(TableName=self._table_name, Key=self._key(account_id, item_id))
        if answer.get("Item", {}).get("entity", {}).get("S") != self._entity:
            raise NotFound(f"No open {self._entity.lower()} {item_id} on this account")
        return self._of(answer["Item"])

    def store_open(
        self, account_id: str, live: list[ItemT], stored: list[ItemT], *, read_at: datetime
    ) -> int:
        """Write the live items, read at `read_at`, that differ from the stored ones; answers how
        many were written.

        Items missing from the live list are not removed here: a reconnecting terminal can answer
        an empty list, so only a known outcome (a closing deal, a done order) removes one."""
        known = {item.id: item for item in stored}
        return sum(
            self.put_if_newer(account_id, item, snapshot_at=read_at)
            for item in live
            if changed(known.get(item.id), item)
        )

    def put_if_newer(self, account_id: str, item: ItemT, *, snapshot_at: datetime) -> bool:
        """Store an item read at `snapshot_at`, unless the stored copy was read later (a slower
        read must not undo a faster one's newer read) or the broker confirmed it gone (its
        closing deal or history order was seen; the marker lasts a day); answers whether it was
        written."""
        item_with_time = self._item(account_id, item) | {"snapshotAt": {"S": sortable_time(snapshot_at)}}
        try:
            self._client.put_item(
                TableName=self._table_name,
                Item=item_with_time,
                ConditionExpression="attribute_not_exists(pk) OR "
                "(entity = :entity AND (attribute_not_exists(snapshotAt) OR snapshotAt < :at))",
                ExpressionAttributeValues={
                    ":entity": {"S": self._entity},
                    ":at": {"S": sortable_time(snapshot_at)},
                },
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def remove_if_older(self, account_id: str, item_id: str, *, snapshot_at: datetime) -> bool:
        """Mark an item the broker confirmed gone as of `snapshot_at`, unless it was stored from a
        later read; answers whether it was marked (or already was)."""
        marker = gone_marker(self._table_name, self._key(account_id, item_id), self._entity, snapshot_at)
        try:
            self._client.put_item(**marker)
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


PositionsRepository = OpenItemsRepository[Position]
OrdersRepository = OpenItemsRepository[Order]


POSITION_ENTITY, ORDER_ENTITY = "POSITION", "ORDER"


def get_positions_repository() -> PositionsRepository:
    return OpenItemsRepository(
        dynamodb_client(),
        get_settings().table_name,
        model=Position,
        prefix=OPEN_POSITION_PREFIX,
        entity=POSITION_ENTITY,
    )


def get_orders_repository() -> OrdersRepository:
    return OpenItemsRepository(
        dynamodb_client(), get_settings().table_name, model=Order, prefix=ORDER_PREFIX, entity=ORDER_ENTITY
    )

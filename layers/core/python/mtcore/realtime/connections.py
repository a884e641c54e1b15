"""The dashboard's open WebSocket connections, in a table of their own: who each one is, what it
subscribed to, and the price pump's lease.

A connection item: `CONN#{id}`/`CONN` with its user, the accounts it subscribed to (each with the
symbols it watches; none means all the user's accounts, without prices), and a TTL two hours on,
when API Gateway closes every connection. An index by user finds the connections an event goes
to; a sparse index holds only connections that watch prices, for the pump."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from mtcore.aws import dynamodb_client
from mtcore.settings import get_settings
from mtcore.store.codec import from_item, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# API Gateway closes a WebSocket connection after two hours; its item outlives it a little.
CONNECTION_TTL = timedelta(hours=2, minutes=5)
BY_USER_INDEX = "byUser"
WATCHING_INDEX = "watching"
_WATCHING = "WATCH"
_SK = "CONN"
_PUMP_KEY = {"pk": {"S": "PUMP"}, "sk": {"S": "LEASE"}}


@dataclass(frozen=True)
class Connection:
    connection_id: str
    user_id: str
    # Account id -> the symbols watched on it; empty: every account of the user, no prices.
    subscriptions: dict[str, list[str]] = field(default_factory=dict)

    def wants(self, account_id: str | None) -> bool:
        return not self.subscriptions or account_id in self.subscriptions

    def watches(self, account_id: str, symbol: str) -> bool:
        return symbol in self.subscriptions.get(account_id, [])


def _key(connection_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CONN#{connection_id}"}, "sk": {"S": _SK}}


class ConnectionsRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def connect(self, connection_id: str, user_id: str, now: datetime) -> None:
        self._client.put_item(
            TableName=self._table_name,
            Item={
                **_key(connection_id),
                **to_item(
                    {
                        "connectionId": connection_id,
                        "userId": user_id,
                        "connectedAt": now.isoformat(),
                        "ttl": int((now + CONNECTION_TTL).timestamp()),
                    }
                ),
            },
        )

    def get(self, connection_id: str) -> Connection | None:
        answer = self._client.get_item(
            TableName=self._table_name, Key=_key(connection_id), ConsistentRead=True
        )
        return _connection_of(answer["Item"]) if "Item" in answer else None

    def disconnect(self, connection_id: str) -> None:
        self._client.delete_item(TableName=self._table_name, Key=_key(connection_id))

    def set_subscriptions(self, connection: Connection, subscriptions: dict[str, list[str]]) -> None:
        """The connection's subscriptions as given; on the watching index while it watches a symbol.
        A connection closed meanwhile stays closed."""
        watching = any(subscriptions.values())
        names = {"#subs": "subscriptions", "#watch": "watchShard"}
        if watching:
            expression = "SET #subs = :subs, #watch = :watch"
            values = to_item({":subs": subscriptions, ":watch": _WATCHING})
        else:
            expression = "SET #subs = :subs REMOVE #watch"
            values = to_item({":subs": subscriptions})
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key=_key(connection.connection_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return

    def of_user(self, user_id: str) -> list[Connection]:
        return self._query(BY_USER_INDEX, "userId", user_id)

    def watching(self) -> list[Connection]:
        return self._query(WATCHING_INDEX, "watchShard", _WATCHING)

    def claim_pump(self, owner: str, now: datetime, until: datetime, *, previous: str | None = None) -> bool:
        """The price pump's lease for `owner` until `until`, if no pump holds it now, or
        `previous` (by default `owner` itself) does."""
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key=_PUMP_KEY,
                UpdateExpression="SET #owner = :owner, #until = :until",
                ConditionExpression="attribute_not_exists(pk) OR #until < :now OR #owner = :previous",
                ExpressionAttributeNames={"#until": "until", "#owner": "owner"},
                ExpressionAttributeValues=to_item(
                    {
                        ":owner": owner,
                        ":until": until.isoformat(),
                        ":now": now.isoformat(),
                        ":previous": previous or owner,
                    }
                ),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def want_pump(self, now: datetime) -> bool:
        """Tell the pump holding the lease that a subscription wants it, so it does not stop
        before the new subscription shows in its index; False when no pump holds it."""
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key=_PUMP_KEY,
                UpdateExpression="SET #wanted = :now",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#wanted": "wantedAt"},
                ExpressionAttributeValues=to_item({":now": now.isoformat()}),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release_pump(self, owner: str, wanted_since: datetime) -> bool:
        """Give the lease up, unless a subscription wanted the pump since `wanted_since`; False
        while one did (the lease is kept)."""
        try:
            self._client.delete_item(
                TableName=self._table_name,
                Key=_PUMP_KEY,
                ConditionExpression="#owner = :owner AND (attribute_not_exists(#wanted) OR #wanted < :since)",
                ExpressionAttributeNames={"#owner": "owner", "#wanted": "wantedAt"},
                ExpressionAttributeValues=to_item({":owner": owner, ":since": wanted_since.isoformat()}),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._client.exceptions.ConditionalCheckFailedException as error:
            held = from_item(cast("dict[str, Any]", error.response.get("Item", {})))
            return held.get("owner") != owner  # another pump's lease is not this one's to keep
        return True

    def _query(self, index: str, attribute: str, value: str) -> list[Connection]:
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table_name,
            IndexName=index,
            KeyConditionExpression="#a = :v",
            ExpressionAttributeNames={"#a": attribute},
            ExpressionAttributeValues={":v": {"S": value}},
        )
        return [_connection_of(item) for page in pages for item in page.get("Items", [])]


def _connection_of(item: dict[str, Any]) -> Connection:
    plain = from_item(item)
    subscriptions = {
        str(account): [str(symbol) for symbol in symbols]
        for account, symbols in (plain.get("subscriptions") or {}).items()
    }
    return Connection(str(plain["connectionId"]), str(plain["userId"]), subscriptions)


def get_connections_repository() -> ConnectionsRepository:
    table = get_settings().connections_table_name
    if not table:
        raise RuntimeError("CONNECTIONS_TABLE_NAME is not configured")
    return ConnectionsRepository(dynamodb_client(), table)

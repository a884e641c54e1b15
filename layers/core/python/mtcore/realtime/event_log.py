"""The events pushed to each user, kept 24 hours under the user (`USER#{id}`/`EVENT#{eventId}`):
what a client that was away missed is `GET /api/metatrader/events?after=<eventId>`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from mtcore.aws import dynamodb_client
from mtcore.realtime.models import EventPage, Frame
from mtcore.settings import get_settings
from mtcore.store.codec import from_item, to_item
from mtcore.store.keys import user_pk
from mtcore.store.pagination import decode_token, encode_token

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEPT = timedelta(hours=24)
_PREFIX = "EVENT#"
# Sorts after every event id (ULIDs are Crockford base32): the open end of the range.
_AFTER_ALL = f"{_PREFIX}~"


class EventLog:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def append(self, user_id: str, frame: Frame) -> None:
        if frame.event_id is None:
            raise ValueError("only events with an id are kept")
        # Kept as the JSON the client got: its numbers stay numbers, whatever DynamoDB stores.
        item = {
            "pk": user_pk(user_id),
            "sk": f"{_PREFIX}{frame.event_id}",
            "entity": "EVENT",
            "frame": frame.model_dump_json(exclude_none=True),
            "ttl": int((frame.time + KEPT).timestamp()),
        }
        self._client.put_item(TableName=self._table_name, Item=to_item(item))

    def after(
        self, user_id: str, event_id: str | None, *, now: datetime, limit: int, next_token: str | None
    ) -> EventPage:
        """The user's events after `event_id` (all kept, without one), oldest first. Expired ones
        that DynamoDB's TTL has not removed yet are left out."""
        pk = user_pk(user_id)
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :to",
            "FilterExpression": "#ttl > :now",
            "ExpressionAttributeNames": {"#ttl": "ttl"},
            "ExpressionAttributeValues": to_item(
                {
                    ":pk": pk,
                    ":from": f"{_PREFIX}{event_id}~" if event_id else _PREFIX,
                    ":to": _AFTER_ALL,
                    ":now": int(now.timestamp()),
                }
            ),
            "Limit": limit,
        }
        start_key = decode_token(next_token, expected_pk=pk)
        if start_key:
            request["ExclusiveStartKey"] = start_key
        answer = self._client.query(**request)
        items = [Frame.model_validate_json(str(from_item(item)["frame"])) for item in answer.get("Items", [])]
        return EventPage(items=items, next_token=encode_token(answer.get("LastEvaluatedKey")))


def get_event_log() -> EventLog:
    return EventLog(dynamodb_client(), get_settings().table_name)

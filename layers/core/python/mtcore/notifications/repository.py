"""Notification state in the single table: each user's preferences and linked Telegram chat (with
the chat's way back to its user, for the bot's commands), one-time link codes, and a marker per
event and channel so that each event reaches each channel once."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from mtcore.aws import dynamodb_client
from mtcore.notifications.models import Channel, Preferences
from mtcore.settings import get_settings
from mtcore.store.codec import from_item, plain, to_item
from mtcore.store.keys import account_pk, user_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CODE_LIFETIME = timedelta(minutes=15)
# A delivery begun this long ago without its end recorded died with its function: sent again.
DELIVERY_STUCK = timedelta(minutes=2)
DELIVERIES_KEPT = timedelta(days=7)
_PREFS_SK, _TELEGRAM_SK = "NOTIFY#PREFS", "NOTIFY#TELEGRAM"


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _chat_key(chat_id: int) -> dict[str, Any]:
    return _key(f"TELEGRAM#{chat_id}", "CHAT")


class NotificationsRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    # Preferences ------------------------------------------------------------------------------

    def preferences(self, user_id: str) -> Preferences:
        """The user's preferences, the defaults where none were saved (`telegram.linked` is the
        chat's: see `chat_of`)."""
        answer = self._client.get_item(TableName=self._table_name, Key=_key(user_pk(user_id), _PREFS_SK))
        saved = from_item(answer["Item"]).get("preferences", {}) if "Item" in answer else {}
        return Preferences.model_validate(saved)

    def save(self, user_id: str, preferences: Preferences) -> None:
        stored = plain(
            preferences.model_copy(
                update={"telegram": preferences.telegram.model_copy(update={"linked": False})}
            )
        )
        stored["telegram"].pop("linked", None)  # it is the binding's, never saved
        self._client.put_item(
            TableName=self._table_name,
            Item={
                **_key(user_pk(user_id), _PREFS_SK),
                **to_item({"entity": "NOTIFY_PREFS", "userId": user_id, "preferences": stored}),
            },
        )

    # Telegram ---------------------------------------------------------------------------------

    def new_code(self, user_id: str, now: datetime) -> tuple[str, datetime]:
        """A one-time code that binds the chat sending it to this user, and when it expires."""
        code, expires = secrets.token_urlsafe(16), now + CODE_LIFETIME
        self._client.put_item(
            TableName=self._table_name,
            Item={
                **_key(f"TGCODE#{code}", "CODE"),
                **to_item(
                    {"userId": user_id, "expiresAt": expires.isoformat(), "ttl": int(expires.timestamp())}
                ),
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
        return code, expires

    def redeem(self, code: str, chat_id: int, now: datetime) -> str | None:
        """Bind the chat to the code's user, once: a code used or expired binds nothing. Answers
        the user bound."""
        try:
            answer = self._client.delete_item(
                TableName=self._table_name,
                Key=_key(f"TGCODE#{code}", "CODE"),
                ConditionExpression="attribute_exists(pk)",
                ReturnValues="ALL_OLD",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return None
        claimed = from_item(answer.get("Attributes", {}))
        if datetime.fromisoformat(str(claimed["expiresAt"])) < now:
            return None
        user_id = str(claimed["userId"])
        self.bind(user_id, chat_id)
        return user_id

    def bind(self, user_id: str, chat_id: int) -> None:
        """The user's chat from now on (one per user; a chat belongs to one user)."""
        previous = self.chat_of(user_id)
        if previous is not None and previous != chat_id:
            self._client.delete_item(TableName=self._table_name, Key=_chat_key(previous))
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table_name,
                        "Item": {**_key(user_pk(user_id), _TELEGRAM_SK), **to_item({"chatId": chat_id})},
                    }
                },
                {
                    "Put": {
                        "TableName": self._table_name,
                        "Item": {**_chat_key(chat_id), **to_item({"userId": user_id})},
                    }
                },
            ]
        )

    def unbind(self, user_id: str) -> None:
        chat_id = self.chat_of(user_id)
        if chat_id is not None:
            self._client.delete_item(TableName=self._table_name, Key=_chat_key(chat_id))
        self._client.delete_item(TableName=self._table_name, Key=_key(user_pk(user_id), _TELEGRAM_SK))

    def chat_of(self, user_id: str) -> int | None:
        answer = self._client.get_item(
            TableName=self._table_name, Key=_key(user_pk(user_id), _TELEGRAM_SK), ConsistentRead=True
        )
        return int(from_item(answer["Item"])["chatId"]) if "Item" in answer else None

    def user_of(self, chat_id: int) -> str | None:
        answer = self._client.get_item(
            TableName=self._table_name, Key=_chat_key(chat_id), ConsistentRead=True
        )
        return str(from_item(answer["Item"])["userId"]) if "Item" in answer else None

    def claim_summary(self, account_id: str, date: str) -> bool:
        """The account's summary of `date`, once."""
        try:
            self._client.put_item(
                TableName=self._table_name,
                Item={
                    **_key(account_pk(account_id), f"SUMMARY#{date}"),
                    **to_item({"entity": "DAILY_SUMMARY"}),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # Deliveries -------------------------------------------------------------------------------

    def claim_delivery(self, event_id: str, channel: Channel, now: datetime) -> bool:
        """Take the event's delivery on this channel: False when it was sent, or is being sent
        now (a delivery begun long ago that never ended counts as not sent)."""
        try:
            self._client.put_item(
                TableName=self._table_name,
                Item={
                    **_key(f"NOTIFIED#{event_id}", channel.value),
                    **to_item(
                        {
                            "status": "sending",
                            "at": now.isoformat(),
                            "ttl": int((now + DELIVERIES_KEPT).timestamp()),
                        }
                    ),
                },
                ConditionExpression="attribute_not_exists(pk) OR (#status = :sending AND #at < :stuck)",
                ExpressionAttributeNames={"#status": "status", "#at": "at"},
                ExpressionAttributeValues=to_item(
                    {":sending": "sending", ":stuck": (now - DELIVERY_STUCK).isoformat()}
                ),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def delivered(self, event_id: str, channel: Channel) -> None:
        self._client.update_item(
            TableName=self._table_name,
            Key=_key(f"NOTIFIED#{event_id}", channel.value),
            UpdateExpression="SET #status = :sent",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":sent": {"S": "sent"}},
        )

    def release(self, event_id: str, channel: Channel) -> None:
        """The delivery failed: a redelivery may try again."""
        self._client.delete_item(TableName=self._table_name, Key=_key(f"NOTIFIED#{event_id}", channel.value))


def get_notifications_repository() -> NotificationsRepository:
    return NotificationsRepository(dynamodb_client(), get_settings().table_name)

"""Notification state in the single table: each user's preferences and linked Telegram chat (with
the chat's way back to its user, for the bot's commands), one-time link codes, and a marker per
event and channel so that each event reaches each channel once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from mtcore.aws import dynamodb_client
from mtcore.notifications.models import Channel, Preferences
from mtcore.settings import get_settings
from mtcore.store.codec import from_item, plain, to_item
from mtcore.store.keys import account_pk, user_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CODE_LIFETIME = timedelta(minutes=15)
# A delivery begun this long ago without its end recorded died with its function (longer than a
# notifier may run, shorter than its queue hides a message): a redelivery sends it again.
DELIVERY_STUCK = timedelta(seconds=45)
DELIVERIES_KEPT = timedelta(days=7)
_PREFS_SK, _TELEGRAM_SK = "NOTIFY#PREFS", "NOTIFY#TELEGRAM"


@dataclass(frozen=True)
class DeliveryClaim:
    taken: bool
    # Another delivery is sending it now: when that delivery counts as dead, if it never ends.
    stuck_at: datetime | None = None


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
        stored = plain(preferences)
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
        """The user's chat from now on (one per user; a chat belongs to one user: whoever had it
        linked before loses it)."""
        previous = self.chat_of(user_id)
        if previous is not None and previous != chat_id:
            self._forget_chat(previous, user_id)
        owner = self.user_of(chat_id)
        if owner is not None and owner != user_id:
            self._forget_user_chat(owner, chat_id)
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
            self._forget_chat(chat_id, user_id)
        self._client.delete_item(TableName=self._table_name, Key=_key(user_pk(user_id), _TELEGRAM_SK))

    def _forget_chat(self, chat_id: int, user_id: str) -> None:
        """The chat's way back to `user_id`, unless the chat belongs to someone else by now."""
        self._delete_if(_chat_key(chat_id), "userId", user_id)

    def _forget_user_chat(self, user_id: str, chat_id: int) -> None:
        """The user's link to `chat_id`, unless the user linked another chat by now."""
        self._delete_if(_key(user_pk(user_id), _TELEGRAM_SK), "chatId", chat_id)

    def _delete_if(self, key: dict[str, Any], attribute: str, value: str | int) -> None:
        try:
            self._client.delete_item(
                TableName=self._table_name,
                Key=key,
                ConditionExpression="#a = :v",
                ExpressionAttributeNames={"#a": attribute},
                ExpressionAttributeValues=to_item({":v": value}),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return

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
                    **to_item(
                        {
                            "entity": "DAILY_SUMMARY",
                            "ttl": int((datetime.now(UTC) + DELIVERIES_KEPT).timestamp()),
                        }
                    ),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release_summary(self, account_id: str, date: str) -> None:
        self._client.delete_item(
            TableName=self._table_name, Key=_key(account_pk(account_id), f"SUMMARY#{date}")
        )

    # Deliveries -------------------------------------------------------------------------------

    def claim_delivery(self, event_id: str, channel: Channel, now: datetime) -> DeliveryClaim:
        """Take the event's delivery on this channel, unless it was sent or is being sent now (a
        delivery begun long ago that never ended counts as not sent)."""
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
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._client.exceptions.ConditionalCheckFailedException as error:
            held = from_item(cast("dict[str, Any]", error.response.get("Item", {})))
            if held.get("status") == "sending":
                return DeliveryClaim(
                    taken=False, stuck_at=datetime.fromisoformat(held["at"]) + DELIVERY_STUCK
                )
            return DeliveryClaim(taken=False)
        return DeliveryClaim(taken=True)

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

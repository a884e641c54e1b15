"""What account syncs keep between runs: per account on `ACCOUNT#{id}/META` (the lease, the
history cursors, failures and their backoff, the disconnection marker), one global MetaApi
backoff (`SYNC/BACKOFF`) and the sync logs (`ACCOUNT#{id}/SYNCLOG#{syncId}`, kept 30 days)."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import Field

from mtcore.accounts import Account
from mtcore.aws import dynamodb_client
from mtcore.errors import NotFound
from mtcore.models import CamelModel
from mtcore.settings import get_settings
from mtcore.store.codec import from_item, to_item
from mtcore.store.keys import (
    BACKOFF_SK,
    META_SK,
    SYNC_LOG_PREFIX,
    SYNC_PK,
    account_pk,
    account_sk,
    sortable_time,
    sync_log_sk,
    user_pk,
)
from mtcore.store.pagination import decode_token, encode_token
from mtcore.sync.models import SyncLog, SyncStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LOG_ENTITY = "SYNC_LOG"
LOG_RETENTION = timedelta(days=30)
_LEASE = ("syncLeaseUntil", "syncLeaseOwner")


class SyncState(CamelModel):
    """The sync's own attributes of an account's META item (its other attributes are ignored)."""

    user_id: str
    state: str | None = Field(default=None, description="MetaApi deployment state the last sync saw")
    deals_cursor: datetime | None = Field(default=None, description="Newest deal time stored")
    history_orders_cursor: datetime | None = Field(default=None, description="Newest history order stored")
    sync_failures: int = 0
    sync_error: str | None = None
    sync_backoff_until: datetime | None = None
    sync_needs_look: bool = Field(default=False, description="Something was left for another sync")
    disconnected_since: datetime | None = None
    history_from: datetime | None = Field(default=None, description="The stored history starts here")


_STATE_ATTRIBUTES = tuple(
    SyncState.model_fields[name].alias or name for name in SyncState.model_fields if name != "user_id"
)


def _stored(value: Any) -> Any:
    return sortable_time(value) if isinstance(value, datetime) else value


class SyncStateRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    # The global MetaApi backoff -------------------------------------------------------------

    def backoff_until(self) -> datetime | None:
        """Until when every sync waits, after MetaApi answered 429 to one of them."""
        answer = self._client.get_item(
            TableName=self._table_name, Key=self._backoff_key(), ConsistentRead=True
        )
        until = answer.get("Item", {}).get("until", {}).get("S")
        return datetime.fromisoformat(until) if until else None

    def back_off(self, until: datetime) -> None:
        """Only ever moves the backoff later: a shorter hint must not cut a longer one short."""
        # A refusal means syncs already wait for longer.
        with suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._client.update_item(
                TableName=self._table_name,
                Key=self._backoff_key(),
                UpdateExpression="SET #until = :until, entity = :entity",
                ConditionExpression="attribute_not_exists(#until) OR #until < :until",
                ExpressionAttributeNames={"#until": "until"},
                ExpressionAttributeValues={
                    ":until": {"S": sortable_time(until)},
                    ":entity": {"S": "SYNC_BACKOFF"},
                },
            )

    # The per-account lease and state --------------------------------------------------------

    def take_lease(self, account_id: str, owner: str, *, now: datetime, until: datetime) -> SyncState | None:
        """The account's sync state with the lease taken until `until`, or None while another sync
        holds it. NotFound when the account is not linked (any more)."""
        try:
            answer = self._client.update_item(
                TableName=self._table_name,
                Key=self._meta_key(account_id),
                UpdateExpression="SET syncLeaseUntil = :until, syncLeaseOwner = :owner",
                ConditionExpression="attribute_exists(pk) AND "
                "(attribute_not_exists(syncLeaseUntil) OR syncLeaseUntil < :now)",
                ExpressionAttributeValues={
                    ":until": {"S": sortable_time(until)},
                    ":owner": {"S": owner},
                    ":now": {"S": sortable_time(now)},
                },
                ReturnValues="ALL_NEW",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            if "Item" not in self._client.get_item(
                TableName=self._table_name, Key=self._meta_key(account_id)
            ):
                raise NotFound(f"No account {account_id}") from None
            return None
        return SyncState.model_validate(from_item(answer["Attributes"]))

    def release(self, account_id: str, owner: str, state: SyncState) -> bool:
        """Store the state the sync ends with and free the lease, in one write, if this sync still
        holds the lease; False when it had expired and another sync took it (its state wins)."""
        values = {
            name: _stored(value)
            for name, value in state.model_dump(by_alias=True, exclude={"user_id"}).items()
            if value is not None
        }
        names = {f"#a{number}": name for number, name in enumerate(_STATE_ATTRIBUTES)}
        sets = [f"#a{n} = :a{n}" for n, name in enumerate(_STATE_ATTRIBUTES) if name in values]
        removals = [f"#a{n}" for n, name in enumerate(_STATE_ATTRIBUTES) if name not in values]
        update = "SET " + ", ".join(sets) + " REMOVE " + ", ".join([*removals, *_LEASE])
        attribute_values = {
            f":a{n}": values[name] for n, name in enumerate(_STATE_ATTRIBUTES) if name in values
        }
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key=self._meta_key(account_id),
                UpdateExpression=update,
                ConditionExpression="syncLeaseOwner = :owner",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(attribute_values | {":owner": owner}),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def update_account(self, account: Account, changes: dict[str, Any], *, synced_at: datetime) -> bool:
        """Write what a sync read into the account item (`changes` by Account field name) with
        `lastSyncAt`; False when a sync that read later has written already, or the account is gone."""
        assignments = {"lastSyncAt": sortable_time(synced_at)}
        for field, value in changes.items():
            assignments[Account.model_fields[field].alias or field] = _stored(value)
        names = {f"#f{number}": name for number, name in enumerate(assignments)}
        values = {f":f{number}": value for number, value in enumerate(assignments.values())}
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key={"pk": {"S": user_pk(account.user_id)}, "sk": {"S": account_sk(account.id)}},
                UpdateExpression="SET " + ", ".join(f"{name} = :f{n}" for n, name in enumerate(names)),
                ConditionExpression="attribute_exists(pk) AND "
                "(attribute_not_exists(lastSyncAt) OR lastSyncAt < :f0)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def read(self, account_id: str) -> SyncState | None:
        answer = self._client.get_item(
            TableName=self._table_name, Key=self._meta_key(account_id), ConsistentRead=True
        )
        if "Item" not in answer:
            return None
        return SyncState.model_validate(from_item(answer["Item"]))

    # Sync logs ------------------------------------------------------------------------------

    def queue_log(self, log: SyncLog) -> None:
        """A sync asked for through the API, before a worker runs it: it shows as queued."""
        self.put_log(log.model_copy(update={"status": SyncStatus.QUEUED}))

    def put_log(self, log: SyncLog) -> None:
        kept_from = log.finished_at or log.started_at or datetime.now(UTC)
        item = log.model_dump(mode="json", by_alias=True, exclude_none=True) | {
            "pk": account_pk(log.account_id),
            "sk": sync_log_sk(log.sync_id),
            "entity": LOG_ENTITY,
            "ttl": int((kept_from + LOG_RETENTION).timestamp()),
        }
        self._client.put_item(TableName=self._table_name, Item=to_item(item))

    def get_log(self, account_id: str, sync_id: str) -> SyncLog:
        answer = self._client.get_item(
            TableName=self._table_name,
            Key={"pk": {"S": account_pk(account_id)}, "sk": {"S": sync_log_sk(sync_id)}},
            ConsistentRead=True,
        )
        if "Item" not in answer:
            raise NotFound(f"No sync {sync_id}")
        return SyncLog.model_validate(from_item(answer["Item"]))

    def list_logs(
        self, account_id: str, *, limit: int, next_token: str | None
    ) -> tuple[list[SyncLog], str | None]:
        """Newest first (sync ids are time-ordered)."""
        pk = account_pk(account_id)
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": SYNC_LOG_PREFIX}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        start_key = decode_token(next_token, expected_pk=pk)
        if start_key:
            request["ExclusiveStartKey"] = start_key
        answer = self._client.query(**request)
        logs = [SyncLog.model_validate(from_item(raw)) for raw in answer.get("Items", [])]
        return logs, encode_token(answer.get("LastEvaluatedKey"))

    @staticmethod
    def _meta_key(account_id: str) -> dict[str, Any]:
        return {"pk": {"S": account_pk(account_id)}, "sk": {"S": META_SK}}

    @staticmethod
    def _backoff_key() -> dict[str, Any]:
        return {"pk": {"S": SYNC_PK}, "sk": {"S": BACKOFF_SK}}


def get_sync_state_repository() -> SyncStateRepository:
    return SyncStateRepository(dynamodb_client(), get_settings().table_name)

"""What account syncs keep between runs: per account on the account item the dashboard reads
(`USER#{uid}/ACCOUNT#{id}`: the lease, the history cursors, failures and their backoff, the
disconnection marker, `lastSyncAt` and the run of unchanged syncs), one global MetaApi backoff
(`SYNC/BACKOFF`) and the sync logs (`ACCOUNT#{id}/SYNCLOG#{syncId}`, kept 30 days).

Everything a sync ends with is one conditional write of the account item: a scheduled sync that
finds nothing changed writes nothing else (its claim by the scheduler was its lease)."""

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
LEASE_ATTRIBUTES = ("syncLeaseUntil", "syncLeaseOwner")


class SyncState(CamelModel):
    """The sync's own attributes of the account item (its other attributes are the Account's)."""

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
    quiet_syncs: SyncLog | None = Field(
        default=None, description="The unchanged scheduled syncs since the last log written, as one entry"
    )


# `state` is the Account's too: a sync sets it, and never removes it.
_STATE_ATTRIBUTES = tuple(
    SyncState.model_fields[name].alias or name
    for name in SyncState.model_fields
    if name not in ("user_id", "state")
)


def _stored(value: Any) -> Any:
    return sortable_time(value) if isinstance(value, datetime) else value


class Leased:
    """An account under this sync's lease, as the lease write (or the claim's read) found it."""

    def __init__(self, item: dict[str, Any]) -> None:
        self.account = Account.model_validate(item)
        self.state = SyncState.model_validate(item)


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

    def claimed(self, user_id: str, account_id: str, owner: str, *, now: datetime) -> Leased | None:
        """The account, when the scheduler's claim for this sync is still its lease (a read, no
        write); None when the claim ran out or went to another sync. NotFound when unlinked."""
        answer = self._client.get_item(
            TableName=self._table_name, Key=self._account_key(user_id, account_id), ConsistentRead=True
        )
        if "Item" not in answer:
            raise NotFound(f"No account {account_id}")
        item = from_item(answer["Item"])
        held = item.get("syncLeaseOwner") == owner and str(item.get("syncLeaseUntil", "")) > sortable_time(
            now
        )
        return Leased(item) if held else None

    def take_lease(
        self, user_id: str, account_id: str, owner: str, *, now: datetime, until: datetime
    ) -> Leased | None:
        """The account with the lease taken until `until`, or None while another sync holds it.
        NotFound when the account is not linked (any more)."""
        try:
            answer = self._client.update_item(
                TableName=self._table_name,
                Key=self._account_key(user_id, account_id),
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
                TableName=self._table_name, Key=self._account_key(user_id, account_id)
            ):
                raise NotFound(f"No account {account_id}") from None
            return None
        return Leased(from_item(answer["Attributes"]))

    def finish(
        self,
        account: Account,
        owner: str,
        state: SyncState,
        changes: dict[str, Any] | None = None,
        *,
        synced_at: datetime | None = None,
    ) -> bool:
        """Store the state the sync ends with, what it read into the account (`changes` by Account
        field name) with `lastSyncAt`, and free the lease: one write, if this sync still holds
        the lease. False when it had expired and another sync took it (its state wins)."""
        values = {
            name: _stored(value)
            for name, value in state.model_dump(by_alias=True, exclude={"user_id", "quiet_syncs"}).items()
            if value is not None
        }
        if state.quiet_syncs is not None:
            values["quietSyncs"] = state.quiet_syncs.model_dump(mode="json", by_alias=True, exclude_none=True)
        assignments = {name: values[name] for name in ("state", *_STATE_ATTRIBUTES) if name in values}
        for field, value in (changes or {}).items():
            assignments[Account.model_fields[field].alias or field] = _stored(value)
        if synced_at is not None:
            assignments["lastSyncAt"] = sortable_time(synced_at)
        removals = [name for name in _STATE_ATTRIBUTES if name not in values]
        names = {f"#a{number}": name for number, name in enumerate([*assignments, *removals])}
        sets = [f"#a{number} = :a{number}" for number in range(len(assignments))]
        removed = [f"#a{number}" for number in range(len(assignments), len(names))]
        update = "SET " + ", ".join(sets) + " REMOVE " + ", ".join([*removed, *LEASE_ATTRIBUTES])
        attribute_values = {f":a{number}": value for number, value in enumerate(assignments.values())}
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key=self._account_key(account.user_id, account.id),
                UpdateExpression=update,
                ConditionExpression="syncLeaseOwner = :owner",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(attribute_values | {":owner": owner}),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def read(self, account: Account) -> SyncState | None:
        answer = self._client.get_item(
            TableName=self._table_name,
            Key=self._account_key(account.user_id, account.id),
            ConsistentRead=True,
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

    def get_log(self, account: Account, sync_id: str) -> SyncLog:
        answer = self._client.get_item(
            TableName=self._table_name,
            Key={"pk": {"S": account_pk(account.id)}, "sk": {"S": sync_log_sk(sync_id)}},
            ConsistentRead=True,
        )
        if "Item" in answer:
            return SyncLog.model_validate(from_item(answer["Item"]))
        quiet = self._quiet_syncs(account)
        if quiet is not None and quiet.sync_id == sync_id:
            return quiet
        raise NotFound(f"No sync {sync_id}")

    def list_logs(
        self, account: Account, *, limit: int, next_token: str | None
    ) -> tuple[list[SyncLog], str | None]:
        """Newest first (sync ids are time-ordered). The first page starts with the run of
        unchanged syncs still open on the account item, which is newer than every stored log."""
        pk = account_pk(account.id)
        start_key = decode_token(next_token, expected_pk=pk)
        quiet = None if start_key else self._quiet_syncs(account)
        logs = [] if quiet is None else [quiet]
        if quiet is not None and limit == 1:
            # The next page starts after the open run, where its log will be stored.
            return logs, encode_token({"pk": {"S": pk}, "sk": {"S": sync_log_sk(quiet.sync_id)}})
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": SYNC_LOG_PREFIX}},
            "ScanIndexForward": False,
            "Limit": limit - len(logs),
        }
        if start_key:
            request["ExclusiveStartKey"] = start_key
        answer = self._client.query(**request)
        logs += [SyncLog.model_validate(from_item(raw)) for raw in answer.get("Items", [])]
        return logs, encode_token(answer.get("LastEvaluatedKey"))

    def _quiet_syncs(self, account: Account) -> SyncLog | None:
        state = self.read(account)
        return state.quiet_syncs if state is not None else None

    @staticmethod
    def _account_key(user_id: str, account_id: str) -> dict[str, Any]:
        return {"pk": {"S": user_pk(user_id)}, "sk": {"S": account_sk(account_id)}}

    @staticmethod
    def _backoff_key() -> dict[str, Any]:
        return {"pk": {"S": SYNC_PK}, "sk": {"S": BACKOFF_SK}}


def get_sync_state_repository() -> SyncStateRepository:
    return SyncStateRepository(dynamodb_client(), get_settings().table_name)

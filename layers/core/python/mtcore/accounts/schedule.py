"""When each account is next due for a scheduled sync: a sharded, sparse index over the account
items (`syncShard`, `syncDueAt`), so the scheduler never scans the table. Taking a due account
for a sync is also that sync's lease, so a scheduled sync that finds nothing changed writes once
more in all: its end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mtcore.accounts.models import ProvisioningStatus
from mtcore.aws import dynamodb_client
from mtcore.settings import get_settings
from mtcore.store.codec import from_item
from mtcore.store.keys import (
    ACCOUNT_SK_PREFIX,
    account_sk,
    all_sync_shards,
    sortable_time,
    sync_shard,
    user_pk,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from mtcore.accounts.models import Account

SYNC_DUE_INDEX = "syncDue"


@dataclass(frozen=True)
class DueAccount:
    user_id: str
    account_id: str
    metaapi_account_id: str
    due_at: str  # as stored: taking the account is conditional on it
    interval_seconds: int
    state: str | None
    backoff_until: datetime | None


class SyncScheduleRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def schedule(self, account: Account, due_at: datetime) -> None:
        """Put the account on the index when it syncs automatically (and is READY), take it off
        when not."""
        key = _key(account.user_id, account.id)
        ready = account.provisioning_status is ProvisioningStatus.READY
        if (account.auto_sync_positions or account.auto_sync_orders) and ready:
            self._client.update_item(
                TableName=self._table_name,
                Key=key,
                UpdateExpression="SET syncShard = :shard, syncDueAt = :due",
                ExpressionAttributeValues={
                    ":shard": {"S": sync_shard(account.id)},
                    ":due": {"S": due_at.isoformat()},
                },
                ConditionExpression="attribute_exists(pk)",
            )
        else:
            self.unschedule(account)

    def unschedule(self, account: Account) -> None:
        """No scheduled syncs until it is scheduled again (an account undeployed, or on its way
        out of MetaApi)."""
        self._client.update_item(
            TableName=self._table_name,
            Key=_key(account.user_id, account.id),
            UpdateExpression="REMOVE syncShard, syncDueAt",
            ConditionExpression="attribute_exists(pk)",
        )

    def due(self, now: datetime, *, limit: int = 10_000) -> list[DueAccount]:
        """Accounts whose due time has passed, shard by shard, oldest first within a shard."""
        found: list[DueAccount] = []
        paginator = self._client.get_paginator("query")
        for shard in all_sync_shards():
            pages = paginator.paginate(
                TableName=self._table_name,
                IndexName=SYNC_DUE_INDEX,
                KeyConditionExpression="syncShard = :shard AND syncDueAt <= :now",
                ExpressionAttributeValues={":shard": {"S": shard}, ":now": {"S": now.isoformat()}},
            )
            for page in pages:
                found += [_due_of(from_item(raw)) for raw in page.get("Items", [])]
                if len(found) >= limit:
                    return found[:limit]
        return found

    def take(self, due: DueAccount, next_due_at: datetime) -> bool:
        """Move the due time forward if nobody else did: at-least-once schedules (a duplicate
        tick, two schedulers) then sync each account once."""
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key=_key(due.user_id, due.account_id),
                UpdateExpression="SET syncDueAt = :next",
                ConditionExpression="syncDueAt = :due",
                ExpressionAttributeValues={
                    ":next": {"S": next_due_at.isoformat()},
                    ":due": {"S": due.due_at},
                },
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def claim(
        self, due: DueAccount, next_due_at: datetime, *, sync_id: str, now: datetime, until: datetime
    ) -> bool:
        """`take`, and the sync's lease in the same write (held by `sync_id` until `until`), if no
        sync holds the account now. False when another tick took it or a sync is running."""
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key=_key(due.user_id, due.account_id),
                UpdateExpression="SET syncDueAt = :next, syncLeaseUntil = :until, syncLeaseOwner = :owner",
                ConditionExpression="syncDueAt = :due AND "
                "(attribute_not_exists(syncLeaseUntil) OR syncLeaseUntil < :now)",
                ExpressionAttributeValues={
                    ":next": {"S": next_due_at.isoformat()},
                    ":due": {"S": due.due_at},
                    ":until": {"S": sortable_time(until)},
                    ":owner": {"S": sync_id},
                    ":now": {"S": sortable_time(now)},
                },
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def note_state(self, due: DueAccount, state: str) -> None:
        """MetaApi's deployment state, as the scheduler's account list last showed it."""
        self._client.update_item(
            TableName=self._table_name,
            Key=_key(due.user_id, due.account_id),
            UpdateExpression="SET #state = :state",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":state": {"S": state}},
            ConditionExpression="attribute_exists(pk)",
        )


def _key(user_id: str, account_id: str) -> dict[str, Any]:
    return {"pk": {"S": user_pk(user_id)}, "sk": {"S": account_sk(account_id)}}


def _due_of(item: dict[str, Any]) -> DueAccount:
    backoff = item.get("syncBackoffUntil")
    return DueAccount(
        user_id=str(item["pk"]).removeprefix("USER#"),
        account_id=str(item["sk"]).removeprefix(ACCOUNT_SK_PREFIX),
        metaapi_account_id=str(item.get("metaapiAccountId", "")),
        due_at=str(item["syncDueAt"]),
        interval_seconds=int(item.get("syncInterval", 60)),
        state=item.get("state"),
        backoff_until=datetime.fromisoformat(backoff) if isinstance(backoff, str) else None,
    )


def get_sync_schedule_repository() -> SyncScheduleRepository:
    return SyncScheduleRepository(dynamodb_client(), get_settings().table_name)

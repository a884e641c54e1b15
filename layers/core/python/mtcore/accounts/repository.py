"""Linked MetaTrader accounts, stored under their owner, plus two companion items:
`ACCOUNT#{id}/META` (for workers that know only the account id) and `METAAPI#{id}/LINK` (a MetaApi
account can be linked once)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mtcore.accounts.models import Account, AccountPage, Reconciliation
from mtcore.aws import dynamodb_client
from mtcore.errors import Conflict, NotFound
from mtcore.settings import get_settings
from mtcore.store.batch import batch_write
from mtcore.store.codec import from_item, to_item
from mtcore.store.keys import (
    ACCOUNT_SK_PREFIX,
    IN_FLIGHT_ATTRIBUTE,
    LINK_SK,
    META_SK,
    account_pk,
    account_sk,
    link_pk,
    user_pk,
)
from mtcore.store.pagination import decode_token, encode_token

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ENTITY = "ACCOUNT"
_TIMESTAMPS = ("createdAt", "updatedAt", "lastSyncAt", "haltedAt")


class AccountsRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def link(self, account: Account) -> None:
        """Store a newly linked account; Conflict if this MetaApi account is linked already."""
        meta = {
            "pk": account_pk(account.id),
            "sk": META_SK,
            "entity": "ACCOUNT_META",
            "userId": account.user_id,
            "metaapiAccountId": account.metaapi_account_id,
            "region": account.region,
        }
        link = {
            "pk": link_pk(account.metaapi_account_id),
            "sk": LINK_SK,
            "entity": "LINK",
            "userId": account.user_id,
            "accountId": account.id,
        }
        new_item = "attribute_not_exists(pk)"
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table_name,
                            "Item": to_item(link),
                            "ConditionExpression": new_item,
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table_name,
                            "Item": self._item(account),
                            "ConditionExpression": new_item,
                        }
                    },
                    {"Put": {"TableName": self._table_name, "Item": to_item(_without_none(meta))}},
                ]
            )
        except self._client.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons", [])
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                raise Conflict("This MetaApi account is already linked") from None
            raise

    def update(self, account: Account, changes: dict[str, Any]) -> Account:
        """Set `changes` (by Account field name; None removes one) on the stored account and
        answer it as stored now. Only those fields are written, so what others write meanwhile (a
        sync's balances, the halt flag) stands; NotFound if the account was unlinked meanwhile."""
        cleared = [
            Account.model_fields[name].alias or name for name, value in changes.items() if value is None
        ]
        plain = account.model_copy(update=changes).model_dump(
            mode="python", by_alias=True, include=set(changes), exclude_none=True
        )
        for stamp in _TIMESTAMPS:
            if stamp in plain:
                plain[stamp] = plain[stamp].isoformat()
        names = {f"#f{number}": name for number, name in enumerate([*plain, *cleared])}
        values = to_item({f":f{number}": value for number, value in enumerate(plain.values())})
        clauses = []
        if plain:
            clauses.append("SET " + ", ".join(f"#f{n} = :f{n}" for n in range(len(plain))))
        if cleared:
            clauses.append("REMOVE " + ", ".join(f"#f{n}" for n in range(len(plain), len(names))))
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "Key": {"pk": {"S": user_pk(account.user_id)}, "sk": {"S": account_sk(account.id)}},
            "UpdateExpression": " ".join(clauses),
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeNames": names,
            "ReturnValues": "ALL_NEW",
        }
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            answer = self._client.update_item(**request)
        except self._client.exceptions.ConditionalCheckFailedException:
            raise NotFound(f"No account {account.id}") from None
        return _account_of(answer["Attributes"])

    def claim_flatten(self, account: Account, trade_id: str) -> bool:
        """Name `trade_id` the account's flatten, if its flatten is still the one `account` was
        read with: of two halts closing everything at once, one starts the flatten."""
        previous = account.flatten_trade_id
        condition, values = "attribute_not_exists(flattenTradeId)", {":new": trade_id}
        if previous is not None:
            condition, values = "flattenTradeId = :previous", values | {":previous": previous}
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key={"pk": {"S": user_pk(account.user_id)}, "sk": {"S": account_sk(account.id)}},
                UpdateExpression="SET flattenTradeId = :new",
                ConditionExpression=f"attribute_exists(pk) AND {condition}",
                ExpressionAttributeValues=to_item(values),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get(self, user_id: str, account_id: str) -> Account:
        """The caller's account; another user's account is NotFound, exactly like a missing one."""
        answer = self._client.get_item(
            TableName=self._table_name,
            Key={"pk": {"S": user_pk(user_id)}, "sk": {"S": account_sk(account_id)}},
            ConsistentRead=True,
        )
        if "Item" not in answer:
            raise NotFound(f"No account {account_id}")
        return _account_of(answer["Item"])

    def set_reconciliation(self, account: Account, reconciliation: Reconciliation) -> None:
        plain = reconciliation.model_dump(mode="json", by_alias=True)
        self._client.update_item(
            TableName=self._table_name,
            Key={"pk": {"S": user_pk(account.user_id)}, "sk": {"S": account_sk(account.id)}},
            UpdateExpression="SET reconciliation = :found",
            ExpressionAttributeValues={":found": to_item({"found": plain})["found"]},
            ConditionExpression="attribute_exists(pk)",
        )

    def owner_of(self, account_id: str) -> str | None:
        """Whose account this is, for workers and events that know only the account id."""
        answer = self._client.get_item(
            TableName=self._table_name,
            Key={"pk": {"S": account_pk(account_id)}, "sk": {"S": META_SK}},
            ProjectionExpression="userId",
        )
        owner = answer.get("Item", {}).get("userId", {}).get("S")
        return str(owner) if owner else None

    def list_for_user(self, user_id: str, *, limit: int, next_token: str | None) -> AccountPage:
        pk = user_pk(user_id)
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": ACCOUNT_SK_PREFIX}},
            "Limit": limit,
        }
        start_key = decode_token(next_token, expected_pk=pk)
        if start_key:
            request["ExclusiveStartKey"] = start_key
        answer = self._client.query(**request)
        items = [_account_of(raw) for raw in answer.get("Items", [])]
        return AccountPage(items=items, next_token=encode_token(answer.get("LastEvaluatedKey")))

    def unlink(self, account: Account) -> None:
        """Remove our records of the account (never anything at MetaApi)."""
        keys = [
            (user_pk(account.user_id), account_sk(account.id)),
            (account_pk(account.id), META_SK),
            (link_pk(account.metaapi_account_id), LINK_SK),
        ]
        self._client.transact_write_items(
            TransactItems=[
                {"Delete": {"TableName": self._table_name, "Key": {"pk": {"S": pk}, "sk": {"S": sk}}}}
                for pk, sk in keys
            ]
        )
        self._delete_partition(account_pk(account.id))

    def count_in_flight(self, account_id: str) -> int:
        """How many of the account's items are still being worked on (unsettled trade requests)."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table_name,
            KeyConditionExpression="pk = :pk",
            FilterExpression=f"attribute_exists({IN_FLIGHT_ATTRIBUTE})",
            ExpressionAttributeValues={":pk": {"S": account_pk(account_id)}},
            Select="COUNT",
        )
        return sum(page["Count"] for page in pages)

    def _delete_partition(self, pk: str) -> None:
        """Every item of the account but one still in flight: the executor may be sending a trade
        request, and it must still find it to record what the broker did."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ProjectionExpression=f"pk, sk, {IN_FLIGHT_ATTRIBUTE}",
        )
        for page in pages:
            deletes = [
                {"DeleteRequest": {"Key": {"pk": item["pk"], "sk": item["sk"]}}}
                for item in page.get("Items", [])
                if IN_FLIGHT_ATTRIBUTE not in item
            ]
            batch_write(self._client, self._table_name, deletes)

    def _item(self, account: Account) -> dict[str, Any]:
        item = account.model_dump(mode="python", by_alias=True, exclude_none=True)
        for stamp in _TIMESTAMPS:
            if stamp in item:
                item[stamp] = item[stamp].isoformat()
        item |= {"pk": user_pk(account.user_id), "sk": account_sk(account.id), "entity": ENTITY}
        item["userId"] = account.user_id
        return to_item(item)


def _without_none(plain: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in plain.items() if value is not None}


def _account_of(raw: dict[str, Any]) -> Account:
    return Account.model_validate(from_item(raw))


def get_accounts_repository() -> AccountsRepository:
    """The container's repository over the configured table and the cached client."""
    return AccountsRepository(dynamodb_client(), get_settings().table_name)

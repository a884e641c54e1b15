"""Linked MetaTrader accounts, stored under their owner, plus two companion items:
`ACCOUNT#{id}/META` (for workers that know only the account id) and `METAAPI#{id}/LINK` (a MetaApi
account can be linked once)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mtcore.accounts.models import Account, AccountPage, Provisioning, Reconciliation
from mtcore.aws import dynamodb_client
from mtcore.errors import Conflict, NotFound
from mtcore.settings import get_settings
from mtcore.store.batch import batch_write
from mtcore.store.codec import from_item, plain, to_item
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
    from botocore.exceptions import ClientError
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

ENTITY = "ACCOUNT"


class AccountsRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def link(self, account: Account) -> None:
        """Store a newly linked account; Conflict if this MetaApi account is linked already."""
        metaapi_id, _ = account.remote
        try:
            self._client.transact_write_items(
                TransactItems=[
                    self._put(self._link_item(account, metaapi_id), new=True),
                    self._put(self._item(account), new=True),
                    self._put(self._meta_item(account)),
                ]
            )
        except self._client.exceptions.TransactionCanceledException as error:
            if _condition_failed(error, first_only=True):
                raise Conflict("This MetaApi account is already linked") from None
            raise

    def create(self, account: Account) -> bool:
        """Store an account MetaApi is about to create (no MetaApi id yet); False if it is stored
        already (a repeat of the call that stored it)."""
        try:
            self._client.transact_write_items(
                TransactItems=[self._put(self._item(account), new=True), self._put(self._meta_item(account))]
            )
        except self._client.exceptions.TransactionCanceledException as error:
            if _condition_failed(error, first_only=True):
                return False
            raise
        return True

    def attach(
        self, account: Account, metaapi_id: str, region: str | None, provisioning: Provisioning
    ) -> Account:
        """Record the MetaApi account created for `account` (and its link), with the operation as
        it is now, while that is still the account's operation; a repeat for the same MetaApi
        account changes nothing."""
        attached = account.model_copy(
            update={
                "metaapi_account_id": metaapi_id,
                "region": region or account.region,
                "provisioning": provisioning,
            }
        )
        names = {"#id": "metaapiAccountId", "#job": "provisioning", "#op": "operationId"}
        values = {":id": metaapi_id, ":op": provisioning.operation_id, ":job": plain(provisioning)}
        setting = "SET #id = :id, #job = :job"
        if attached.region:
            setting = f"{setting}, #region = :region"
            names, values = names | {"#region": "region"}, values | {":region": attached.region}
        try:
            self._client.transact_write_items(
                TransactItems=[
                    self._put(self._link_item(attached, metaapi_id), new=True),
                    {
                        "Update": {
                            "TableName": self._table_name,
                            "Key": self._key(account),
                            "UpdateExpression": setting,
                            "ConditionExpression": "#job.#op = :op",
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": to_item(values),
                        }
                    },
                    self._put(self._meta_item(attached)),
                ]
            )
        except self._client.exceptions.TransactionCanceledException as error:
            if not _condition_failed(error):
                raise  # throttled or conflicting: the step is repeated
            current = self.find(account.user_id, account.id)
            if current is None:
                raise NotFound(f"No account {account.id}") from None
            if current.metaapi_account_id == metaapi_id:
                return current  # a repeat
            if current.provisioning is None or current.provisioning.operation_id != provisioning.operation_id:
                raise OperationSuperseded(account.id) from None
            raise
        return attached

    def detach(self, account: Account) -> None:
        """Forget the MetaApi account of `account` (it was removed there): its link goes, and the
        account item keeps no MetaApi id."""
        metaapi_id, _ = account.remote
        self._client.transact_write_items(
            TransactItems=[
                {"Delete": {"TableName": self._table_name, "Key": self._keys(link_pk(metaapi_id), LINK_SK)}},
                {
                    "Update": {
                        "TableName": self._table_name,
                        "Key": self._key(account),
                        "UpdateExpression": "REMOVE metaapiAccountId",
                    }
                },
                self._put(self._meta_item(account.model_copy(update={"metaapi_account_id": None}))),
            ]
        )

    def update(self, account: Account, changes: dict[str, Any], *, guarded: bool = False) -> Account:
        """Set `changes` (by Account field name; None removes one) on the stored account and
        answer it as stored now. Only those fields are written, so what others write meanwhile (a
        sync's balances, the halt flag) stands; NotFound if the account was unlinked meanwhile.
        `guarded`: only while the account's provisioning operation is still the one `account` was
        read with (or it still has none); OperationSuperseded when another one began meanwhile."""
        cleared = [
            Account.model_fields[name].alias or name for name, value in changes.items() if value is None
        ]
        dumped = account.model_copy(update=changes).model_dump(
            mode="python", by_alias=True, include=set(changes), exclude_none=True
        )
        written = {name: plain(value) for name, value in dumped.items()}
        names = {f"#f{number}": name for number, name in enumerate([*written, *cleared])}
        values = {f":f{number}": value for number, value in enumerate(written.values())}
        clauses = []
        if written:
            clauses.append("SET " + ", ".join(f"#f{n} = :f{n}" for n in range(len(written))))
        if cleared:
            clauses.append("REMOVE " + ", ".join(f"#f{n}" for n in range(len(written), len(names))))
        condition = "attribute_exists(pk)"
        if guarded:
            names |= {"#job": "provisioning"}
            if account.provisioning is None:
                condition += " AND attribute_not_exists(#job)"
            else:
                names["#op"] = "operationId"
                condition += " AND #job.#op = :op"
                values[":op"] = account.provisioning.operation_id
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "Key": self._key(account),
            "UpdateExpression": " ".join(clauses),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if values:
            request["ExpressionAttributeValues"] = to_item(values)
        try:
            answer = self._client.update_item(**request)
        except self._client.exceptions.ConditionalCheckFailedException as error:
            if "Item" in error.response:
                raise OperationSuperseded(account.id) from None
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
                Key=self._key(account),
                UpdateExpression="SET flattenTradeId = :new",
                ConditionExpression=f"attribute_exists(pk) AND {condition}",
                ExpressionAttributeValues=to_item(values),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get(self, user_id: str, account_id: str) -> Account:
        """The caller's account; another user's account is NotFound, exactly like a missing one."""
        account = self.find(user_id, account_id)
        if account is None:
            raise NotFound(f"No account {account_id}")
        return account

    def find(self, user_id: str, account_id: str) -> Account | None:
        answer = self._client.get_item(
            TableName=self._table_name,
            Key=self._keys(user_pk(user_id), account_sk(account_id)),
            ConsistentRead=True,
        )
        return _account_of(answer["Item"]) if "Item" in answer else None

    def set_reconciliation(self, account: Account, reconciliation: Reconciliation) -> None:
        plain = reconciliation.model_dump(mode="json", by_alias=True)
        self._client.update_item(
            TableName=self._table_name,
            Key=self._key(account),
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
        keys = [(user_pk(account.user_id), account_sk(account.id)), (account_pk(account.id), META_SK)]
        if account.metaapi_account_id is not None:
            keys.append((link_pk(account.metaapi_account_id), LINK_SK))
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
        item: dict[str, Any] = plain(account)
        item |= {"pk": user_pk(account.user_id), "sk": account_sk(account.id), "entity": ENTITY}
        item["userId"] = account.user_id
        return item

    @staticmethod
    def _meta_item(account: Account) -> dict[str, Any]:
        meta: dict[str, Any]
        meta = {
            "pk": account_pk(account.id),
            "sk": META_SK,
            "entity": "ACCOUNT_META",
            "userId": account.user_id,
            "metaapiAccountId": account.metaapi_account_id,
            "region": account.region,
        }
        return {name: value for name, value in meta.items() if value is not None}

    @staticmethod
    def _link_item(account: Account, metaapi_id: str) -> dict[str, Any]:
        return {
            "pk": link_pk(metaapi_id),
            "sk": LINK_SK,
            "entity": "LINK",
            "userId": account.user_id,
            "accountId": account.id,
        }

    def _put(self, item: dict[str, Any], *, new: bool = False) -> TransactWriteItemTypeDef:
        if new:
            condition = "attribute_not_exists(pk)"
            return {
                "Put": {
                    "TableName": self._table_name,
                    "Item": to_item(item),
                    "ConditionExpression": condition,
                }
            }
        return {"Put": {"TableName": self._table_name, "Item": to_item(item)}}

    @staticmethod
    def _key(account: Account) -> dict[str, Any]:
        return AccountsRepository._keys(user_pk(account.user_id), account_sk(account.id))

    @staticmethod
    def _keys(pk: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": sk}}


class OperationSuperseded(Conflict):
    """Another provisioning operation began on the account meantime."""

    code = "OPERATION_SUPERSEDED"

    def __init__(self, account_id: str) -> None:
        super().__init__(f"Another operation began on account {account_id} meanwhile: read it again")


def _account_of(raw: dict[str, Any]) -> Account:
    return Account.model_validate(from_item(raw))


def get_accounts_repository() -> AccountsRepository:
    """The container's repository over the configured table and the cached client."""
    return AccountsRepository(dynamodb_client(), get_settings().table_name)


def _condition_failed(error: ClientError, *, first_only: bool = False) -> bool:
    """Whether a cancelled transaction failed a condition (of its first item, with `first_only`),
    rather than a throttle or a conflict."""
    reasons = error.response.get("CancellationReasons", [])
    checked = reasons[:1] if first_only else reasons
    return any(reason.get("Code") == "ConditionalCheckFailed" for reason in checked)

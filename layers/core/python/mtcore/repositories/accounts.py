"""Linked MetaTrader accounts, stored under their owner."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mtcore.aws import dynamodb_client
from mtcore.models import Account, AccountPage
from mtcore.repositories.codec import from_item, to_item
from mtcore.repositories.keys import ACCOUNT_SK_PREFIX, account_sk, user_pk
from mtcore.repositories.pagination import decode_token, encode_token
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ENTITY = "ACCOUNT"


class AccountsRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def put(self, account: Account) -> None:
        item = account.model_dump(mode="python", by_alias=True, exclude_none=True)
        item |= {
            "pk": user_pk(account.user_id),
            "sk": account_sk(account.id),
            "entity": ENTITY,
            "userId": account.user_id,
        }
        for stamp in ("createdAt", "updatedAt", "lastSyncAt"):
            if stamp in item:
                item[stamp] = item[stamp].isoformat()
        self._client.put_item(
            TableName=self._table_name,
            Item=to_item(item),
        )

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


def _account_of(raw: dict[str, Any]) -> Account:
    return Account.model_validate(from_item(raw))


def get_accounts_repository() -> AccountsRepository:
    """The container's repository over the configured table and the cached client."""
    return AccountsRepository(dynamodb_client(), get_settings().table_name)

"""An account's risk profile and the loss guards' state, in one item (`ACCOUNT#{id}` / `RISK`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from mtcore.aws import dynamodb_client
from mtcore.risk.models import RiskProfile, RiskState
from mtcore.settings import get_settings
from mtcore.store.codec import from_item, plain, to_item
from mtcore.store.keys import account_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RISK_SK = "RISK"
ENTITY = "RISK"


class RiskRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def _key(self, account_id: str) -> dict[str, Any]:
        return {"pk": {"S": account_pk(account_id)}, "sk": {"S": RISK_SK}}

    def read(self, account_id: str) -> tuple[RiskProfile, RiskState]:
        """The account's profile (no limits when none was stored) and its guards' state."""
        answer = self._client.get_item(
            TableName=self._table_name, Key=self._key(account_id), ConsistentRead=True
        )
        item = from_item(answer.get("Item") or {})
        return RiskProfile.model_validate(item.get("profile") or {}), RiskState.model_validate(
            item.get("state") or {}
        )

    def put_profile(self, account_id: str, profile: RiskProfile) -> None:
        self._set(account_id, "profile", plain(profile))

    def put_state(self, account_id: str, state: RiskState, *, read: RiskState) -> bool:
        """Store the guards' new state if nobody evaluated since `read` was read; answers whether."""
        try:
            self._set(
                account_id,
                "state",
                plain(state),
                unchanged_since=read.evaluated_at,
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _set(
        self, account_id: str, field: str, value: dict[str, Any], unchanged_since: datetime | None = None
    ) -> None:
        condition: dict[str, Any] = {}
        names = {"#field": field, "#entity": "entity"}
        values: dict[str, Any] = {":value": value, ":entity": ENTITY}
        if field == "state":
            names["#seen"] = "evaluatedAt"
            if unchanged_since is None:
                condition["ConditionExpression"] = "attribute_not_exists(#field.#seen)"
            else:
                values[":seen"] = unchanged_since.isoformat()  # as plain() stored it
                condition["ConditionExpression"] = "#field.#seen = :seen"
        self._client.update_item(
            TableName=self._table_name,
            Key=self._key(account_id),
            UpdateExpression="SET #field = :value, #entity = :entity",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item(values),
            **condition,
        )


def get_risk_repository() -> RiskRepository:
    return RiskRepository(dynamodb_client(), get_settings().table_name)

"""An account's trading history as sync stores it: deals (`DEAL#{time}#{id}`), history orders
(`HORDER#{doneTime}#{id}`) and closed positions (`POS#CLOSED#{closeTime}#{positionId}`), all under
`ACCOUNT#{id}`. History never changes once written, so storing it again writes the same item."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from mtcore.aws import dynamodb_client
from mtcore.portfolio.models import ClosedPosition, Deal, HistoryOrder
from mtcore.portfolio.open_items import POSITION_ENTITY, gone_marker
from mtcore.settings import get_settings
from mtcore.store.batch import batch_write
from mtcore.store.codec import from_item, plain, to_item
from mtcore.store.keys import (
    AFTER_ALL_TIMES,
    CLOSED_POSITION_PREFIX,
    DEAL_PREFIX,
    HISTORY_ORDER_PREFIX,
    OPEN_POSITION_PREFIX,
    account_pk,
    closed_position_sk,
    deal_sk,
    history_order_sk,
    sortable_time,
)
from mtcore.store.pagination import decode_token, encode_token

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RecordT = TypeVar("RecordT", bound=BaseModel)
_ITEM_ATTRIBUTES = frozenset({"pk", "sk", "entity"})


def _record_of(raw: dict[str, Any]) -> dict[str, Any]:
    # Deals and history orders keep unknown fields: the item's own attributes are not MetaApi's.
    return {name: value for name, value in from_item(raw).items() if name not in _ITEM_ATTRIBUTES}


class HistoryRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def add_deals(self, account_id: str, deals: Sequence[Deal]) -> int:
        """Store the deals not stored yet; answers how many were written."""
        records = {deal_sk(deal.time, deal.id): plain(deal) | {"entity": "DEAL"} for deal in deals}
        return self._add_new(account_id, DEAL_PREFIX, records)

    def add_history_orders(self, account_id: str, orders: Sequence[HistoryOrder]) -> int:
        """Store the history orders not stored yet; answers how many were written."""
        records = {
            history_order_sk(order.done_at, order.id): plain(order) | {"entity": "HISTORY_ORDER"}
            for order in orders
        }
        return self._add_new(account_id, HISTORY_ORDER_PREFIX, records)

    def close_position(self, account_id: str, closed: ClosedPosition, *, snapshot_at: datetime) -> bool:
        """Record the closed position and mark the open one gone, together; False (nothing
        written) when the open item was stored from a snapshot as new as this one or newer."""
        pk = account_pk(account_id)
        item = plain(closed) | {
            "pk": pk,
            "sk": closed_position_sk(closed.close_time, closed.id),
            "entity": "CLOSED_POSITION",
        }
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self._table_name, "Item": to_item(item)}},
                    {
                        "Put": gone_marker(
                            self._table_name,
                            {"pk": {"S": pk}, "sk": {"S": f"{OPEN_POSITION_PREFIX}{closed.id}"}},
                            POSITION_ENTITY,
                            snapshot_at,
                        )
                    },
                ]
            )
        except self._client.exceptions.TransactionCanceledException:
            return False
        return True

    def list_closed(
        self, account_id: str, *, limit: int, next_token: str | None
    ) -> tuple[list[ClosedPosition], str | None]:
        """Most recently closed first."""
        return self._page(account_id, CLOSED_POSITION_PREFIX, ClosedPosition, limit, next_token)

    def list_deals(
        self,
        account_id: str,
        *,
        limit: int,
        next_token: str | None,
        between: tuple[datetime, datetime] | None = None,
    ) -> tuple[list[Deal], str | None]:
        """Newest first; within `between` (start inclusive, end exclusive) when given."""
        return self._page(account_id, DEAL_PREFIX, Deal, limit, next_token, between)

    def list_history_orders(
        self,
        account_id: str,
        *,
        limit: int,
        next_token: str | None,
        between: tuple[datetime, datetime] | None = None,
    ) -> tuple[list[HistoryOrder], str | None]:
        """Newest first (by when they were done); within `between` when given."""
        return self._page(account_id, HISTORY_ORDER_PREFIX, HistoryOrder, limit, next_token, between)

    def _add_new(self, account_id: str, prefix: str, records: dict[str, dict[str, Any]]) -> int:
        """Put the records whose sort keys are not stored yet, found with one query over the range
        they span (instead of one conditional write per record, most of which would be refused)."""
        if not records:
            return 0
        pk = account_pk(account_id)
        stored = self._stored_keys(pk, min(records), f"{prefix}{AFTER_ALL_TIMES}")
        new = {sk: body for sk, body in records.items() if sk not in stored}
        batch_write(
            self._client,
            self._table_name,
            [{"PutRequest": {"Item": to_item(body | {"pk": pk, "sk": sk})}} for sk, body in new.items()],
        )
        return len(new)

    def _stored_keys(self, pk: str, low: str, high: str) -> set[str]:
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table_name,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues={":pk": {"S": pk}, ":low": {"S": low}, ":high": {"S": high}},
            ProjectionExpression="sk",
        )
        return {raw["sk"]["S"] for page in pages for raw in page.get("Items", [])}

    def _page(
        self,
        account_id: str,
        prefix: str,
        model: type[RecordT],
        limit: int,
        next_token: str | None,
        between: tuple[datetime, datetime] | None = None,
    ) -> tuple[list[RecordT], str | None]:
        pk = account_pk(account_id)
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": prefix}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if between is not None:
            # Keys are <prefix><time>#<id>: a time range is a key range ("#" sorts before digits).
            request["KeyConditionExpression"] = "pk = :pk AND sk BETWEEN :low AND :high"
            request["ExpressionAttributeValues"] = {
                ":pk": {"S": pk},
                ":low": {"S": f"{prefix}{sortable_time(between[0])}"},
                ":high": {"S": f"{prefix}{sortable_time(between[1])}"},
            }
        start_key = decode_token(next_token, expected_pk=pk)
        if start_key:
            request["ExclusiveStartKey"] = start_key
        answer = self._client.query(**request)
        records = [model.model_validate(_record_of(raw)) for raw in answer.get("Items", [])]
        return records, encode_token(answer.get("LastEvaluatedKey"))


def get_history_repository() -> HistoryRepository:
    return HistoryRepository(dynamodb_client(), get_settings().table_name)


def realized_since(
    history: HistoryRepository, account_id: str, start: datetime, end: datetime
) -> list[Decimal]:
    """What each deal of [start, end) booked on its position (profit, swap and commission), for
    the deals that realize (closes and reversals)."""
    booked: list[Decimal] = []
    token = None
    while True:
        deals, token = history.list_deals(account_id, limit=1000, next_token=token, between=(start, end))
        booked += [deal.profit + deal.swap + deal.commission for deal in deals if deal.realizes]
        if token is None:
            return booked

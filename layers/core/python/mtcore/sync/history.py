"""An account's trading history from the store; an older range is imported in the background."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from mtcore.errors import InvalidInput
from mtcore.models import CamelModel
from mtcore.sync.models import SYNC_SETTLED, SyncLog, SyncMessage, SyncReason, SyncType
from mtcore.sync.queue import queue_requested

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mtcore.accounts import Account, AccountsRepository
    from mtcore.portfolio import HistoryRepository
    from mtcore.sync.queue import SyncQueue
    from mtcore.sync.state import SyncStateRepository

# The newest syncs looked through for an import already under way.
_RECENT_SYNCS = 20
DEFAULT_RANGE = timedelta(days=30)


class HistoryKind(StrEnum):
    DEALS = "deals"
    ORDERS = "orders"


class HistoryPage(CamelModel):
    items: list[dict[str, Any]] = Field(
        description="Deals or history orders, newest first, in MetaApi's names"
    )
    next_token: str | None = Field(default=None, description="Pass as nextToken to read the next page")
    covered_from: datetime | None = Field(
        default=None, description="The stored history starts here; earlier ranges are imported on request"
    )
    importing: SyncLog | None = Field(
        default=None,
        description="The import of the part of the range not stored yet (follow it at /sync/{syncId})",
    )


def get_history(
    user_id: str,
    account_id: str,
    *,
    start: datetime | None,
    end: datetime | None,
    kind: HistoryKind,
    limit: int,
    next_token: str | None,
    accounts: AccountsRepository,
    history: HistoryRepository,
    state: SyncStateRepository,
    queue: SyncQueue,
) -> HistoryPage:
    """Deals or history orders of [start, end) from the store: by default the last 30 days."""
    end = end or datetime.now(UTC)
    start = start or end - DEFAULT_RANGE
    if end <= start:
        raise InvalidInput("query.to", "must be after from")
    account = accounts.get(user_id, account_id)
    records: Sequence[BaseModel]
    if kind is HistoryKind.DEALS:
        records, token = history.list_deals(
            account.id, limit=limit, next_token=next_token, between=(start, end)
        )
    else:
        records, token = history.list_history_orders(
            account.id, limit=limit, next_token=next_token, between=(start, end)
        )
    sync_state = state.read(account)
    covered = sync_state.history_from if sync_state is not None else None
    importing = None
    if covered is None or start < covered:
        importing = _import(account, start, min(end, covered or end), state=state, queue=queue)
    return HistoryPage(
        items=[record.model_dump(mode="json", by_alias=True, exclude_none=True) for record in records],
        next_token=token,
        covered_from=covered,
        importing=importing,
    )


def _import(
    account: Account, start: datetime, end: datetime, *, state: SyncStateRepository, queue: SyncQueue
) -> SyncLog:
    """The import under way that covers the range, or a new one."""
    recent, _ = state.list_logs(account, limit=_RECENT_SYNCS, next_token=None)
    for log in recent:
        if log.type is SyncType.HISTORY and log.status not in SYNC_SETTLED:
            return log
    message = SyncMessage(
        account_id=account.id,
        user_id=account.user_id,
        type=SyncType.HISTORY,
        reason=SyncReason.REQUEST,
        start=start,
        end=end,
    )
    return queue_requested(message, state=state, queue=queue)

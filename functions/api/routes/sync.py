"""Syncs on demand and their logs. Scheduled syncs run without being asked; these are for a
dashboard's "refresh now" and for following what sync did."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import AwareDatetime

from functions.api.identity import caller_id
from functions.api.openapi import ACCOUNT_ERRORS, SIGNED_IN, answers, location
from mtcore.accounts.repository import AccountsRepository, get_accounts_repository
from mtcore.portfolio.history import HistoryRepository, get_history_repository
from mtcore.sync import history as history_logic
from mtcore.sync import requests as logic
from mtcore.sync.history import HistoryKind, HistoryPage
from mtcore.sync.models import SyncLog, SyncType
from mtcore.sync.queue import SyncQueue, get_sync_queue
from mtcore.sync.requests import MAX_WAIT_SECONDS, SyncLogPage
from mtcore.sync.state import SyncStateRepository, get_sync_state_repository

router = APIGatewayRouter()

Caller = Annotated[str, Depends(caller_id)]
Accounts = Annotated[AccountsRepository, Depends(get_accounts_repository)]
State = Annotated[SyncStateRepository, Depends(get_sync_state_repository)]
Queue = Annotated[SyncQueue, Depends(get_sync_queue)]
History = Annotated[HistoryRepository, Depends(get_history_repository)]
AccountId = Annotated[str, Path(max_length=64, description="Our id of the linked account")]
QUEUED = answers("Queued: the sync's log, followed at its Location", ACCOUNT_ERRORS, status=202)


def _queued(log: SyncLog) -> Response[SyncLog]:
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=log,
        headers={"Location": location("accounts", log.account_id, "sync", log.sync_id)},
    )


def _sync(
    kind: SyncType, user_id: str, account_id: str, accounts: Accounts, state: State, queue: Queue
) -> Response[SyncLog]:
    return _queued(logic.request_sync(user_id, account_id, kind, accounts=accounts, state=state, queue=queue))


@router.post(
    "/accounts/<account_id>/sync/full",
    summary="Sync everything now",
    tags=["sync"],
    security=SIGNED_IN,
    responses=QUEUED,
)
def sync_full(
    user_id: Caller, account_id: AccountId, accounts: Accounts, state: State, queue: Queue
) -> Response[SyncLog]:
    return _sync(SyncType.FULL, user_id, account_id, accounts, state, queue)


@router.post(
    "/accounts/<account_id>/sync/positions",
    summary="Sync open positions now",
    tags=["sync"],
    security=SIGNED_IN,
    responses=QUEUED,
)
def sync_positions(
    user_id: Caller, account_id: AccountId, accounts: Accounts, state: State, queue: Queue
) -> Response[SyncLog]:
    return _sync(SyncType.POSITIONS, user_id, account_id, accounts, state, queue)


@router.post(
    "/accounts/<account_id>/positions/sync",
    summary="Sync open positions now (same as /sync/positions)",
    tags=["sync"],
    security=SIGNED_IN,
    responses=QUEUED,
)
def positions_sync(
    user_id: Caller, account_id: AccountId, accounts: Accounts, state: State, queue: Queue
) -> Response[SyncLog]:
    return _sync(SyncType.POSITIONS, user_id, account_id, accounts, state, queue)


@router.post(
    "/accounts/<account_id>/sync/orders",
    summary="Sync pending orders now",
    tags=["sync"],
    security=SIGNED_IN,
    responses=QUEUED,
)
def sync_orders(
    user_id: Caller, account_id: AccountId, accounts: Accounts, state: State, queue: Queue
) -> Response[SyncLog]:
    return _sync(SyncType.ORDERS, user_id, account_id, accounts, state, queue)


@router.get(
    "/accounts/<account_id>/sync/logs",
    summary="What each sync of the account did, newest first",
    tags=["sync"],
    security=SIGNED_IN,
    responses=answers("One page of sync logs", ACCOUNT_ERRORS),
)
def sync_logs(
    user_id: Caller,
    account_id: AccountId,
    accounts: Accounts,
    state: State,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 50,
    next_token: Annotated[
        str | None, Query(alias="nextToken", max_length=2048, description="From the previous page")
    ] = None,
) -> SyncLogPage:
    return logic.list_sync_logs(
        user_id, account_id, limit=limit, next_token=next_token, accounts=accounts, state=state
    )


@router.get(
    "/accounts/<account_id>/sync/<sync_id>",
    summary="One sync: queued, running, or how it ended",
    tags=["sync"],
    security=SIGNED_IN,
    responses=answers("The sync's log", ACCOUNT_ERRORS),
)
def get_sync(
    user_id: Caller,
    account_id: AccountId,
    sync_id: Annotated[str, Path(pattern=r"^[0-9A-Z]{26}$")],
    accounts: Accounts,
    state: State,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_SECONDS, description="Seconds to wait for it to end")] = 0,
) -> SyncLog:
    return logic.get_sync(user_id, account_id, sync_id, wait_seconds=wait, accounts=accounts, state=state)


@router.get(
    "/accounts/<account_id>/history",
    summary="Deals or history orders in a time range, from the store",
    description=(
        "Newest first, paginated; without a range, the last 30 days. A range older than the stored "
        "history (coveredFrom) is imported from "
        "MetaApi in the background, in pages of 1000: `importing` is that import's sync, to follow at "
        "/sync/{syncId}; read the range again once it has ended."
    ),
    tags=["sync"],
    security=SIGNED_IN,
    responses=answers("One page of the history", ACCOUNT_ERRORS),
)
def get_history(
    user_id: Caller,
    account_id: AccountId,
    accounts: Accounts,
    state: State,
    queue: Queue,
    history: History,
    start: Annotated[
        AwareDatetime | None,
        Query(alias="from", description="Start (inclusive), ISO 8601 with a time zone; 30 days before `to`"),
    ] = None,
    end: Annotated[
        AwareDatetime | None, Query(alias="to", description="End (exclusive), ISO 8601 with a time zone; now")
    ] = None,
    kind: Annotated[
        HistoryKind, Query(alias="type", description="deals (default) or orders")
    ] = HistoryKind.DEALS,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size")] = 100,
    next_token: Annotated[
        str | None, Query(alias="nextToken", max_length=2048, description="From the previous page")
    ] = None,
) -> HistoryPage:
    return history_logic.get_history(
        user_id,
        account_id,
        start=start,
        end=end,
        kind=kind,
        limit=limit,
        next_token=next_token,
        accounts=accounts,
        history=history,
        state=state,
        queue=queue,
    )

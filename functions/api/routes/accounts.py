from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.identity import caller_id
from functions.api.openapi import (
    ACCOUNT_ERRORS,
    LINK_ERRORS,
    SIGNED_IN,
    SIGNED_IN_ERRORS,
    answers,
    error_answer,
    location,
)
from mtcore.accounts import linking as logic
from mtcore.accounts.access import MetaApiAccess, get_metaapi_access
from mtcore.accounts.linking import AccountChanges, LinkRequest
from mtcore.accounts.models import Account, AccountPage
from mtcore.accounts.repository import AccountsRepository, get_accounts_repository
from mtcore.accounts.schedule import SyncScheduleRepository, get_sync_schedule_repository

router = APIGatewayRouter()

Caller = Annotated[str, Depends(caller_id)]
Accounts = Annotated[AccountsRepository, Depends(get_accounts_repository)]
Access = Annotated[MetaApiAccess, Depends(get_metaapi_access)]
Schedule = Annotated[SyncScheduleRepository, Depends(get_sync_schedule_repository)]
AccountId = Annotated[str, Path(max_length=64, description="Our id of the linked account")]


@router.get(
    "/accounts",
    summary="List the caller's linked MetaTrader accounts",
    tags=["accounts"],
    security=SIGNED_IN,
    responses=answers("One page of accounts", SIGNED_IN_ERRORS),
)
def list_accounts(
    user_id: Caller,
    repository: Accounts,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 50,
    next_token: Annotated[
        str | None, Query(alias="nextToken", max_length=2048, description="From the previous page")
    ] = None,
) -> AccountPage:
    return logic.list_accounts(user_id, limit=limit, next_token=next_token, repository=repository)


@router.post(
    "/accounts",
    summary="Link a MetaApi account",
    description=(
        "Links a MetaApi account the caller may use: one their own stored MetaApi token can read, one "
        "the platform created for them, or (operators of a single-operator deployment) one the platform "
        "token can read. Anything else is a 404. A MetaApi account can be linked once."
    ),
    tags=["accounts"],
    security=SIGNED_IN,
    responses=answers("The linked account", LINK_ERRORS, status=201),
)
def link_account(
    user_id: Caller,
    request: Annotated[LinkRequest, Body(embed=False)],
    repository: Accounts,
    access: Access,
    schedule: Schedule,
) -> Response[Account]:
    account = logic.link_account(user_id, request, repository=repository, access=access, schedule=schedule)
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=account,
        headers={"Location": location("accounts", account.id)},
    )


@router.get(
    "/accounts/<account_id>",
    summary="One linked account",
    tags=["accounts"],
    security=SIGNED_IN,
    responses=answers("The account", ACCOUNT_ERRORS),
)
def get_account(user_id: Caller, account_id: AccountId, repository: Accounts) -> Account:
    return logic.get_account(user_id, account_id, repository=repository)


@router.put(
    "/accounts/<account_id>",
    summary="Rename an account or change its sync settings",
    tags=["accounts"],
    security=SIGNED_IN,
    responses=answers("The updated account", ACCOUNT_ERRORS),
)
def update_account(
    user_id: Caller,
    account_id: AccountId,
    changes: Annotated[AccountChanges, Body(embed=False)],
    repository: Accounts,
    schedule: Schedule,
) -> Account:
    return logic.update_account(user_id, account_id, changes, repository=repository, schedule=schedule)


@router.delete(
    "/accounts/<account_id>",
    summary="Unlink an account",
    description=(
        "Removes our records of the account. Nothing changes at MetaApi or at the broker. Refused "
        "(409 TRADES_IN_FLIGHT) while one of its trades is still being executed."
    ),
    tags=["accounts"],
    security=SIGNED_IN,
    responses=answers(
        "Unlinked",
        {**ACCOUNT_ERRORS, 409: error_answer("A trade of the account is still being executed")},
        status=204,
    ),
)
def unlink_account(user_id: Caller, account_id: AccountId, repository: Accounts) -> Response[None]:
    logic.unlink_account(user_id, account_id, repository=repository)
    return Response(status_code=204)

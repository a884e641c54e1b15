from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
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
from mtcore.accounts.linking import AccountChanges
from mtcore.accounts.models import Account, AccountPage
from mtcore.accounts.repository import AccountsRepository, get_accounts_repository
from mtcore.accounts.schedule import SyncScheduleRepository, get_sync_schedule_repository
from mtcore.provisioning import lifecycle
from mtcore.provisioning.lifecycle import get_provisioning_desk
from mtcore.provisioning.models import AccountKind, AddAccount, AddedAccount

router = APIGatewayRouter()

Caller = Annotated[str, Depends(caller_id)]
Accounts = Annotated[AccountsRepository, Depends(get_accounts_repository)]
Access = Annotated[MetaApiAccess, Depends(get_metaapi_access)]
Schedule = Annotated[SyncScheduleRepository, Depends(get_sync_schedule_repository)]
AccountId = Annotated[str, Path(max_length=64, description="Our id of the account")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="Creating: repeats with the same key and body (the password aside) answer the "
        "account the first call added (kept 24 h)",
    ),
]


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
    summary="Add a MetaTrader account: link one from MetaApi, or have one created there",
    description=(
        'Three bodies. `{"metaapiAccountId": …}` links a MetaApi account the caller may use: one their '
        "own stored MetaApi token can read, one the platform created for them, or (operators of a "
        "single-operator deployment) one the platform token can read; anything else is a 404, and a "
        'MetaApi account can be linked once: 201. `{"name", "platform", "server", "login", '
        '"password", …}` has the platform create the account at MetaApi, deploy it and connect it '
        '(the password goes to MetaApi and is never stored); `{"draft": true, "name", '
        '"platform", "server"?}` creates it without credentials, which the trader types on '
        "MetaApi's page: the answer carries its `configurationLink` once MetaApi has made the draft "
        "(the call waits for that up to `wait` seconds; later, GET …/configuration-link). Both answer "
        "202 with the account in `provisioningStatus` CREATING (a draft made in time: "
        "AWAITING_CREDENTIALS): follow `Location` until READY (or FAILED, with the reason). "
        "An Idempotency-Key makes a repeat answer the account the first call added."
    ),
    tags=["accounts"],
    security=SIGNED_IN,
    responses={
        **answers("Linked", LINK_ERRORS, status=201),
        202: {
            "description": "Being created at MetaApi: follow Location",
            "content": {"application/json": {"model": AddedAccount}},
        },
    },
)
def add_account(
    user_id: Caller,
    request: Annotated[AddAccount, Body(embed=False)],
    repository: Accounts,
    access: Access,
    schedule: Schedule,
    key: IdempotencyKey = None,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=lifecycle.MAX_DRAFT_WAIT_S,
            description="A draft: seconds to wait for MetaApi to make it, to answer its configuration link",
        ),
    ] = lifecycle.MAX_DRAFT_WAIT_S,
) -> Response[AddedAccount | Account]:
    if request.kind is AccountKind.LINK:
        account = logic.link_account(
            user_id, request.as_link(), repository=repository, access=access, schedule=schedule
        )
        status = 201
    else:
        account = lifecycle.add_account(
            user_id, request, idempotency_key=key, desk=get_provisioning_desk(), wait_seconds=wait
        )
        status = 202
    return Response(
        status_code=status,
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
    summary="Unlink an account, or remove it from MetaApi too",
    description=(
        "Removes our records of the account (204); nothing changes at MetaApi or at the broker. With "
        "`fromMetaApi=true`, an account the platform created for the caller (only those: 404 "
        "otherwise) is removed from MetaApi first, then unlinked (202: the account shows REMOVING "
        "until it is gone); a creation under way is stopped and what it made removed. Refused (409 "
        "TRADES_IN_FLIGHT) while one of its trades is still being executed, and a plain unlink (409 "
        "PROVISIONING_IN_PROGRESS) while an operation at MetaApi is under way."
    ),
    tags=["accounts"],
    security=SIGNED_IN,
    responses={
        **answers(
            "Unlinked",
            {
                **ACCOUNT_ERRORS,
                409: error_answer(
                    "A trade of the account is still being executed, or an operation at MetaApi"
                ),
            },
            status=204,
        ),
        202: {"description": "Being removed from MetaApi, then unlinked"},
    },
)
def unlink_account(
    user_id: Caller,
    account_id: AccountId,
    repository: Accounts,
    from_metaapi: Annotated[
        bool,
        Query(alias="fromMetaApi", description="Also remove it from MetaApi (accounts the platform created)"),
    ] = False,
) -> Response[Account | None]:
    if from_metaapi:
        removing = lifecycle.remove(user_id, account_id, desk=get_provisioning_desk())
        return Response(
            status_code=202,
            content_type=content_types.APPLICATION_JSON,
            body=removing,
            headers={"Location": location("accounts", removing.id)},
        )
    logic.unlink_account(user_id, account_id, repository=repository)
    return Response(status_code=204)

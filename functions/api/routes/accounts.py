from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.identity import caller_id
from functions.api.openapi import SIGNED_IN, SIGNED_IN_ERRORS, answers
from mtcore.logic import accounts as logic
from mtcore.models import AccountPage
from mtcore.repositories.accounts import AccountsRepository, get_accounts_repository

router = APIGatewayRouter()


@router.get(
    "/accounts",
    summary="List the caller's linked MetaTrader accounts",
    tags=["accounts"],
    security=SIGNED_IN,
    responses=answers("One page of accounts", SIGNED_IN_ERRORS),
)
def list_accounts(
    user_id: Annotated[str, Depends(caller_id)],
    repository: Annotated[AccountsRepository, Depends(get_accounts_repository)],
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 50,
    next_token: Annotated[
        str | None, Query(alias="nextToken", max_length=2048, description="From the previous page")
    ] = None,
) -> AccountPage:
    return logic.list_accounts(user_id, limit=limit, next_token=next_token, repository=repository)

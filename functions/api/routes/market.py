"""Positions, symbols and quotes of one linked account."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.identity import caller_id
from functions.api.openapi import LIVE_ERRORS, SIGNED_IN, answers
from mtcore.accounts.access import MetaApiAccess, get_metaapi_access
from mtcore.accounts.repository import AccountsRepository, get_accounts_repository
from mtcore.market import quotes
from mtcore.metaapi.models import Position, SymbolPrice, SymbolSpecification
from mtcore.portfolio import reads
from mtcore.portfolio.open_items import PositionsRepository, get_positions_repository

router = APIGatewayRouter()

Caller = Annotated[str, Depends(caller_id)]
Accounts = Annotated[AccountsRepository, Depends(get_accounts_repository)]
Positions = Annotated[PositionsRepository, Depends(get_positions_repository)]
Access = Annotated[MetaApiAccess, Depends(get_metaapi_access)]
AccountId = Annotated[str, Path(max_length=64, description="Our id of the linked account")]
Symbol = Annotated[str, Path(pattern=r"^[A-Za-z0-9._#+-]{1,32}$", description="e.g. EURUSD")]
Live = Annotated[bool, Query(description="Read MetaApi now (and refresh the stored copy)")]


@router.get(
    "/accounts/<account_id>/positions",
    summary="Open positions",
    description="The stored positions, or with live=true MetaApi's current ones, which refresh the store.",
    tags=["positions"],
    security=SIGNED_IN,
    responses=answers("Open positions", LIVE_ERRORS),
)
def list_positions(
    user_id: Caller,
    account_id: AccountId,
    accounts: Accounts,
    positions: Positions,
    access: Access,
    live: Live = False,
) -> list[Position]:
    return reads.list_positions(
        user_id, account_id, live=live, accounts=accounts, positions=positions, access=access
    )


@router.get(
    "/accounts/<account_id>/positions/<position_id>",
    summary="One open position",
    tags=["positions"],
    security=SIGNED_IN,
    responses=answers("The position", LIVE_ERRORS),
)
def get_position(
    user_id: Caller,
    account_id: AccountId,
    position_id: Annotated[str, Path(pattern=r"^[0-9A-Za-z_-]{1,64}$")],
    accounts: Accounts,
    positions: Positions,
    access: Access,
    live: Live = False,
) -> Position:
    return reads.get_position(
        user_id, account_id, position_id, live=live, accounts=accounts, positions=positions, access=access
    )


@router.get(
    "/accounts/<account_id>/symbols",
    summary="Symbols the account can trade",
    tags=["market"],
    security=SIGNED_IN,
    responses=answers("Symbol names", LIVE_ERRORS),
)
def list_symbols(user_id: Caller, account_id: AccountId, accounts: Accounts, access: Access) -> list[str]:
    return quotes.list_symbols(user_id, account_id, accounts=accounts, access=access)


@router.get(
    "/accounts/<account_id>/symbols/<symbol>",
    summary="A symbol's specification (volumes, stops level, sessions, …)",
    tags=["market"],
    security=SIGNED_IN,
    responses=answers("The specification", LIVE_ERRORS),
)
def get_specification(
    user_id: Caller, account_id: AccountId, symbol: Symbol, accounts: Accounts, access: Access
) -> SymbolSpecification:
    return quotes.get_specification(user_id, account_id, symbol, accounts=accounts, access=access)


@router.get(
    "/accounts/<account_id>/quotes/<symbol>",
    summary="The symbol's current bid and ask",
    tags=["market"],
    security=SIGNED_IN,
    responses=answers("The current price", LIVE_ERRORS),
)
def get_quote(
    user_id: Caller, account_id: AccountId, symbol: Symbol, accounts: Accounts, access: Access
) -> SymbolPrice:
    return quotes.get_quote(user_id, account_id, symbol, accounts=accounts, access=access)

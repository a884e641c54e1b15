"""Placing and closing trades. Each answers 202 with the trade request; its progress is at
`GET /accounts/{id}/trades/{tradeId}`."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Depends, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.identity import caller_id
from functions.api.openapi import ACCOUNT_ERRORS, LIVE_ERRORS, SIGNED_IN, answers, error_answer
from mtcore.logic import trading as logic
from mtcore.logic.metaapi_access import MetaApiAccess, get_metaapi_access
from mtcore.logic.trading import MAX_WAIT_SECONDS, MarketOrder, TradePage
from mtcore.repositories.accounts import AccountsRepository, get_accounts_repository
from mtcore.repositories.trades import TradesRepository, get_trades_repository
from mtcore.trades.models import TradeRequest, TradeStatus
from mtcore.trades.queue import TradeQueue, get_trade_queue

router = APIGatewayRouter()

Caller = Annotated[str, Depends(caller_id)]
Accounts = Annotated[AccountsRepository, Depends(get_accounts_repository)]
Trades = Annotated[TradesRepository, Depends(get_trades_repository)]
Queue = Annotated[TradeQueue, Depends(get_trade_queue)]
Access = Annotated[MetaApiAccess, Depends(get_metaapi_access)]
AccountId = Annotated[str, Path(max_length=64, description="Our id of the linked account")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="Repeats with the same key and body answer the first request (kept 24 h)",
    ),
]
TRADE_ERRORS: dict[int, Any] = {
    **LIVE_ERRORS,
    409: error_answer("A request with this Idempotency-Key is still being processed"),
}


def _accepted(request: TradeRequest) -> Response[TradeRequest]:
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=request,
        headers={"Location": f"/api/metatrader/accounts/{request.account_id}/trades/{request.id}"},
    )


@router.post(
    "/accounts/<account_id>/orders",
    summary="Place a market order",
    description=(
        "Accepted at once (202) and sent to the broker by the order queue, in order per account. "
        "The answer's Location follows it to a final status. An order not sent within "
        "expiresInSeconds (default 60) is expired, never sent late."
    ),
    tags=["trading"],
    security=SIGNED_IN,
    responses=answers("Accepted: the trade request", TRADE_ERRORS, status=202),
)
def place_order(
    user_id: Caller,
    account_id: AccountId,
    order: Annotated[MarketOrder, Body(embed=False)],
    accounts: Accounts,
    trades: Trades,
    queue: Queue,
    idempotency_key: IdempotencyKey = None,
) -> Response[TradeRequest]:
    request = logic.place_market_order(
        user_id,
        account_id,
        order,
        idempotency_key=idempotency_key,
        accounts=accounts,
        trades=trades,
        queue=queue,
        context=router.lambda_context,
    )
    return _accepted(request)


@router.delete(
    "/accounts/<account_id>/positions/<position_id>",
    summary="Close a position, or part of it",
    tags=["trading"],
    security=SIGNED_IN,
    responses=answers("Accepted: the trade request", TRADE_ERRORS, status=202),
)
def close_position(
    user_id: Caller,
    account_id: AccountId,
    position_id: Annotated[str, Path(pattern=r"^[0-9A-Za-z_-]{1,64}$")],
    accounts: Accounts,
    trades: Trades,
    queue: Queue,
    access: Access,
    volume: Annotated[
        Decimal | None, Query(gt=0, le=1000, description="Lots to close; the whole position without it")
    ] = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[TradeRequest]:
    request = logic.close_position(
        user_id,
        account_id,
        position_id,
        volume,
        idempotency_key=idempotency_key,
        accounts=accounts,
        trades=trades,
        queue=queue,
        access=access,
        context=router.lambda_context,
    )
    return _accepted(request)


@router.delete(
    "/accounts/<account_id>/positions",
    summary="Close all open positions, or all of one symbol",
    description=(
        "Answers one parent trade request with a child per position (`children`); each child closes "
        "one position, and the parent settles from them: EXECUTED when all closed, PARTIAL when some did."
    ),
    tags=["trading"],
    security=SIGNED_IN,
    responses=answers("Accepted: the parent trade request", TRADE_ERRORS, status=202),
)
def close_positions(
    user_id: Caller,
    account_id: AccountId,
    accounts: Accounts,
    trades: Trades,
    queue: Queue,
    access: Access,
    symbol: Annotated[
        str | None, Query(pattern=r"^[A-Za-z0-9._#+-]{1,32}$", description="Only this symbol")
    ] = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[TradeRequest]:
    request = logic.close_positions(
        user_id,
        account_id,
        symbol,
        idempotency_key=idempotency_key,
        accounts=accounts,
        trades=trades,
        queue=queue,
        access=access,
        context=router.lambda_context,
    )
    return _accepted(request)


@router.get(
    "/accounts/<account_id>/trades",
    summary="The account's trade requests, newest first",
    tags=["trading"],
    security=SIGNED_IN,
    responses=answers("One page of trade requests", ACCOUNT_ERRORS),
)
def list_trades(
    user_id: Caller,
    account_id: AccountId,
    accounts: Accounts,
    trades: Trades,
    status: Annotated[TradeStatus | None, Query(description="Only requests in this status")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 50,
    next_token: Annotated[
        str | None, Query(alias="nextToken", max_length=2048, description="From the previous page")
    ] = None,
) -> TradePage:
    return logic.list_trades(
        user_id,
        account_id,
        status=status,
        limit=limit,
        next_token=next_token,
        accounts=accounts,
        trades=trades,
    )


@router.get(
    "/accounts/<account_id>/trades/<trade_id>",
    summary="A trade request: its status, timeline, broker codes and reason",
    tags=["trading"],
    security=SIGNED_IN,
    responses=answers("The trade request", LIVE_ERRORS),
)
def get_trade(
    user_id: Caller,
    account_id: AccountId,
    trade_id: Annotated[str, Path(pattern=r"^[0-9A-Z]{26}$")],
    accounts: Accounts,
    trades: Trades,
    wait: Annotated[
        float, Query(ge=0, le=MAX_WAIT_SECONDS, description="Seconds to wait for a final status")
    ] = 0,
) -> TradeRequest:
    return logic.get_trade(user_id, account_id, trade_id, wait_seconds=wait, accounts=accounts, trades=trades)

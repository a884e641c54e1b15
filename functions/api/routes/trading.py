"""Placing, changing, closing and canceling trades. Each answers 202 with the trade request;
its progress is at `GET /accounts/{id}/trades/{tradeId}`."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Depends, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.identity import caller_id
from functions.api.openapi import ACCOUNT_ERRORS, LIVE_ERRORS, SIGNED_IN, answers, error_answer, location
from mtcore.accounts import AccountsRepository, MetaApiAccess, get_accounts_repository, get_metaapi_access
from mtcore.metaapi.models import Order
from mtcore.portfolio import OrdersRepository, get_orders_repository
from mtcore.portfolio import reads as portfolio
from mtcore.trading import reads
from mtcore.trading.acceptance import Intent, TradeCall, TradeDesk, accept, get_trade_desk
from mtcore.trading.bodies import SYMBOL, CloseBy, NewOrder, OrderChanges, PositionChanges
from mtcore.trading.intents import (
    CancelOrder,
    ChangeOrder,
    ChangePosition,
    CloseAll,
    ClosePosition,
    ClosePositionBy,
    PlaceOrder,
)
from mtcore.trading.models import TradeRequest, TradeStatus
from mtcore.trading.reads import MAX_WAIT_SECONDS, TradePage
from mtcore.trading.repository import TradesRepository, get_trades_repository

router = APIGatewayRouter()

Caller = Annotated[str, Depends(caller_id)]
Desk = Annotated[TradeDesk, Depends(get_trade_desk)]
Accounts = Annotated[AccountsRepository, Depends(get_accounts_repository)]
Trades = Annotated[TradesRepository, Depends(get_trades_repository)]
AccountId = Annotated[str, Path(max_length=64, description="Our id of the linked account")]
TicketId = Annotated[str, Path(pattern=r"^[0-9A-Za-z_-]{1,64}$", description="The broker's ticket")]
Key = Annotated[
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
    422: error_answer(
        "Invalid input, or a broker rule refused it before it was queued: `code` names the rule "
        "(e.g. STOP_LOSS_TOO_CLOSE, VOLUME_TOO_SMALL, MARKET_CLOSED) and `details` the field, "
        "the broker's `limit` and the `value` sent"
    ),
}


def _trade_route(summary: str, description: str | None = None) -> dict[str, Any]:
    """What every route that accepts a trade declares."""
    accepted = answers("Accepted: the trade request", TRADE_ERRORS, status=202)
    return {
        "summary": summary,
        "description": description,
        "tags": ["trading"],
        "security": SIGNED_IN,
        "responses": accepted,
    }


def _accepted(
    user_id: str, account_id: str, key: str | None, intent: Intent, desk: TradeDesk
) -> Response[TradeRequest]:
    request = accept(TradeCall(user_id, account_id, key), intent, desk=desk)
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=request,
        headers={"Location": location("accounts", request.account_id, "trades", request.id)},
    )


@router.post(
    "/accounts/<account_id>/orders",
    **_trade_route(
        "Place a market or pending order",
        "Checked against the symbol's rules (volume step and limits, stop distances, sessions, "
        "trade mode, order types, expirations, spread, margin), then accepted at once (202) and "
        "sent to the broker by the order queue, in order per account. The volume is rounded down "
        "to the broker's step (requestedVolume keeps what was asked). Relative stop loss and take "
        "profit are turned into prices on acceptance. A market order not sent within "
        "expiresInSeconds (default 60) is expired, never sent late.",
    ),
)
def place_order(
    user_id: Caller,
    account_id: AccountId,
    order: Annotated[NewOrder, Body(embed=False)],
    desk: Desk,
    key: Key = None,
) -> Response[TradeRequest]:
    return _accepted(user_id, account_id, key, PlaceOrder(order), desk)


@router.get(
    "/accounts/<account_id>/orders",
    summary="Pending orders",
    description="The stored pending orders, or with live=true MetaApi's, which refresh the store.",
    tags=["trading"],
    security=SIGNED_IN,
    responses=answers("The pending orders", LIVE_ERRORS),
)
def list_orders(
    user_id: Caller,
    account_id: AccountId,
    accounts: Accounts,
    orders: Annotated[OrdersRepository, Depends(get_orders_repository)],
    access: Annotated[MetaApiAccess, Depends(get_metaapi_access)],
    live: Annotated[bool, Query(description="Read MetaApi now (and refresh the stored copy)")] = False,
) -> list[Order]:
    return portfolio.list_orders(
        user_id, account_id, live=live, accounts=accounts, orders=orders, access=access
    )


@router.put(
    "/accounts/<account_id>/orders/<order_id>",
    **_trade_route("Change a pending order's price, stop loss, take profit or expiration"),
)
def modify_order(
    user_id: Caller,
    account_id: AccountId,
    order_id: TicketId,
    changes: Annotated[OrderChanges, Body(embed=False)],
    desk: Desk,
    key: Key = None,
) -> Response[TradeRequest]:
    return _accepted(user_id, account_id, key, ChangeOrder(order_id, changes), desk)


@router.delete("/accounts/<account_id>/orders/<order_id>", **_trade_route("Cancel a pending order"))
def cancel_order(
    user_id: Caller, account_id: AccountId, order_id: TicketId, desk: Desk, key: Key = None
) -> Response[TradeRequest]:
    return _accepted(user_id, account_id, key, CancelOrder(order_id), desk)


@router.put(
    "/accounts/<account_id>/positions/<position_id>",
    **_trade_route("Change a position's stop loss, take profit or trailing stop"),
)
def modify_position(
    user_id: Caller,
    account_id: AccountId,
    position_id: TicketId,
    changes: Annotated[PositionChanges, Body(embed=False)],
    desk: Desk,
    key: Key = None,
) -> Response[TradeRequest]:
    return _accepted(user_id, account_id, key, ChangePosition(position_id, changes), desk)


Lots = Annotated[
    Decimal | None,
    Query(
        gt=0, le=1000, description="Lots to close, rounded down to the step; the whole position without it"
    ),
]


@router.delete(
    "/accounts/<account_id>/positions/<position_id>", **_trade_route("Close a position, or part of it")
)
def close_position(
    user_id: Caller,
    account_id: AccountId,
    position_id: TicketId,
    desk: Desk,
    volume: Lots = None,
    key: Key = None,
) -> Response[TradeRequest]:
    return _accepted(user_id, account_id, key, ClosePosition(position_id, volume), desk)


@router.post(
    "/accounts/<account_id>/positions/<position_id>/close-by",
    **_trade_route(
        "Close a position by an opposite one (hedging accounts)",
        "On a netting account there is never an opposite position: a 422 NETTING_ACCOUNT says so.",
    ),
)
def close_by(
    user_id: Caller,
    account_id: AccountId,
    position_id: TicketId,
    body: Annotated[CloseBy, Body(embed=False)],
    desk: Desk,
    key: Key = None,
) -> Response[TradeRequest]:
    return _accepted(user_id, account_id, key, ClosePositionBy(position_id, body), desk)


@router.delete(
    "/accounts/<account_id>/positions",
    **_trade_route(
        "Close all open positions, or all of one symbol",
        "Answers one parent trade request with a child per position (`children`); each child closes "
        "one position, and the parent settles from them: EXECUTED when all closed, PARTIAL when some did.",
    ),
)
def close_positions(
    user_id: Caller,
    account_id: AccountId,
    desk: Desk,
    symbol: Annotated[str | None, Query(pattern=SYMBOL, description="Only this symbol")] = None,
    key: Key = None,
) -> Response[TradeRequest]:
    return _accepted(user_id, account_id, key, CloseAll(symbol), desk)


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
    return reads.list_trades(
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
    return reads.get_trade(user_id, account_id, trade_id, wait_seconds=wait, accounts=accounts, trades=trades)

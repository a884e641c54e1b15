"""Placing, changing, closing and canceling trades. Each answers 202 with the trade request;
its progress is at `GET /accounts/{id}/trades/{tradeId}`."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Depends, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.identity import caller_id
from functions.api.openapi import ACCOUNT_ERRORS, LIVE_ERRORS, SIGNED_IN, answers, error_answer
from mtcore.metaapi.models import Order
from mtcore.trading import acceptance as logic
from mtcore.trading.acceptance import MAX_WAIT_SECONDS, TradeDesk, TradePage, get_trade_desk
from mtcore.trading.bodies import SYMBOL, CloseBy, NewOrder, OrderChanges, PositionChanges
from mtcore.trading.models import TradeRequest, TradeStatus

router = APIGatewayRouter()

Caller = Annotated[str, Depends(caller_id)]
Desk = Annotated[TradeDesk, Depends(get_trade_desk)]
AccountId = Annotated[str, Path(max_length=64, description="Our id of the linked account")]
TicketId = Annotated[str, Path(pattern=r"^[0-9A-Za-z_-]{1,64}$", description="The broker's ticket")]
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
    422: error_answer(
        "Invalid input, or a broker rule refused it before it was queued: `code` names the rule "
        "(e.g. STOP_LOSS_TOO_CLOSE, VOLUME_TOO_SMALL, MARKET_CLOSED) and `details` the field, "
        "the broker's `limit` and the `value` sent"
    ),
}
ACCEPTED = answers("Accepted: the trade request", TRADE_ERRORS, status=202)


def _accepted(request: TradeRequest) -> Response[TradeRequest]:
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=request,
        headers={"Location": f"/api/metatrader/accounts/{request.account_id}/trades/{request.id}"},
    )


@router.post(
    "/accounts/<account_id>/orders",
    summary="Place a market or pending order",
    description=(
        "Checked against the symbol's rules (volume step and limits, stop distances, sessions, "
        "trade mode, order types, expirations, spread, margin), then accepted at once (202) and "
        "sent to the broker by the order queue, in order per account. The volume is rounded down "
        "to the broker's step (requestedVolume keeps what was asked). Relative stop loss and take "
        "profit are turned into prices on acceptance. A market order not sent within "
        "expiresInSeconds (default 60) is expired, never sent late."
    ),
    tags=["trading"],
    security=SIGNED_IN,
    responses=ACCEPTED,
)
def place_order(
    user_id: Caller,
    account_id: AccountId,
    order: Annotated[NewOrder, Body(embed=False)],
    desk: Desk,
    idempotency_key: IdempotencyKey = None,
) -> Response[TradeRequest]:
    return _accepted(
        logic.place_order(
            user_id,
            account_id,
            order,
            idempotency_key=idempotency_key,
            desk=desk,
        )
    )


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
    desk: Desk,
    live: Annotated[bool, Query(description="Read MetaApi now (and refresh the stored copy)")] = False,
) -> list[Order]:
    return logic.list_orders(user_id, account_id, live=live, desk=desk)


@router.put(
    "/accounts/<account_id>/orders/<order_id>",
    summary="Change a pending order's price, stop loss, take profit or expiration",
    tags=["trading"],
    security=SIGNED_IN,
    responses=ACCEPTED,
)
def modify_order(
    user_id: Caller,
    account_id: AccountId,
    order_id: TicketId,
    changes: Annotated[OrderChanges, Body(embed=False)],
    desk: Desk,
    idempotency_key: IdempotencyKey = None,
) -> Response[TradeRequest]:
    return _accepted(
        logic.modify_order(
            user_id,
            account_id,
            order_id,
            changes,
            idempotency_key=idempotency_key,
            desk=desk,
        )
    )


@router.delete(
    "/accounts/<account_id>/orders/<order_id>",
    summary="Cancel a pending order",
    tags=["trading"],
    security=SIGNED_IN,
    responses=ACCEPTED,
)
def cancel_order(
    user_id: Caller,
    account_id: AccountId,
    order_id: TicketId,
    desk: Desk,
    idempotency_key: IdempotencyKey = None,
) -> Response[TradeRequest]:
    return _accepted(
        logic.cancel_order(
            user_id,
            account_id,
            order_id,
            idempotency_key=idempotency_key,
            desk=desk,
        )
    )


@router.put(
    "/accounts/<account_id>/positions/<position_id>",
    summary="Change a position's stop loss, take profit or trailing stop",
    tags=["trading"],
    security=SIGNED_IN,
    responses=ACCEPTED,
)
def modify_position(
    user_id: Caller,
    account_id: AccountId,
    position_id: TicketId,
    changes: Annotated[PositionChanges, Body(embed=False)],
    desk: Desk,
    idempotency_key: IdempotencyKey = None,
) -> Response[TradeRequest]:
    return _accepted(
        logic.modify_position(
            user_id,
            account_id,
            position_id,
            changes,
            idempotency_key=idempotency_key,
            desk=desk,
        )
    )


@router.delete(
    "/accounts/<account_id>/positions/<position_id>",
    summary="Close a position, or part of it",
    tags=["trading"],
    security=SIGNED_IN,
    responses=ACCEPTED,
)
def close_position(
    user_id: Caller,
    account_id: AccountId,
    position_id: TicketId,
    desk: Desk,
    volume: Annotated[
        Decimal | None,
        Query(
            gt=0,
            le=1000,
            description="Lots to close, rounded down to the step; the whole position without it",
        ),
    ] = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[TradeRequest]:
    return _accepted(
        logic.close_position(
            user_id,
            account_id,
            position_id,
            volume,
            idempotency_key=idempotency_key,
            desk=desk,
        )
    )


@router.post(
    "/accounts/<account_id>/positions/<position_id>/close-by",
    summary="Close a position by an opposite one (hedging accounts)",
    description="On a netting account there is never an opposite position: a 422 NETTING_ACCOUNT says so.",
    tags=["trading"],
    security=SIGNED_IN,
    responses=ACCEPTED,
)
def close_by(
    user_id: Caller,
    account_id: AccountId,
    position_id: TicketId,
    body: Annotated[CloseBy, Body(embed=False)],
    desk: Desk,
    idempotency_key: IdempotencyKey = None,
) -> Response[TradeRequest]:
    return _accepted(
        logic.close_by(
            user_id,
            account_id,
            position_id,
            body,
            idempotency_key=idempotency_key,
            desk=desk,
        )
    )


@router.delete(
    "/accounts/<account_id>/positions",
    summary="Close all open positions, or all of one symbol",
    description=(
        "Answers one parent trade request with a child per position (`children`); each child closes "
        "one position, and the parent settles from them: EXECUTED when all closed, PARTIAL when some did."
    ),
    tags=["trading"],
    security=SIGNED_IN,
    responses=ACCEPTED,
)
def close_positions(
    user_id: Caller,
    account_id: AccountId,
    desk: Desk,
    symbol: Annotated[str | None, Query(pattern=SYMBOL, description="Only this symbol")] = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[TradeRequest]:
    return _accepted(
        logic.close_positions(
            user_id,
            account_id,
            symbol,
            idempotency_key=idempotency_key,
            desk=desk,
        )
    )


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
    desk: Desk,
    status: Annotated[TradeStatus | None, Query(description="Only requests in this status")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 50,
    next_token: Annotated[
        str | None, Query(alias="nextToken", max_length=2048, description="From the previous page")
    ] = None,
) -> TradePage:
    return logic.list_trades(
        user_id, account_id, status=status, limit=limit, next_token=next_token, desk=desk
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
    desk: Desk,
    wait: Annotated[
        float, Query(ge=0, le=MAX_WAIT_SECONDS, description="Seconds to wait for a final status")
    ] = 0,
) -> TradeRequest:
    return logic.get_trade(user_id, account_id, trade_id, wait_seconds=wait, desk=desk)

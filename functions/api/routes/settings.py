from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.identity import caller_id
from functions.api.openapi import METAAPI_ERRORS, SIGNED_IN, SIGNED_IN_ERRORS, answers
from mtcore.accounts import user_tokens as logic
from mtcore.accounts.access import MetaApiAccess, get_metaapi_access
from mtcore.accounts.user_tokens import TokenInput, TokenStatus

router = APIGatewayRouter()

Caller = Annotated[str, Depends(caller_id)]
Access = Annotated[MetaApiAccess, Depends(get_metaapi_access)]


@router.put(
    "/settings/metaapi-token",
    summary="Store your own MetaApi token",
    description=(
        "Checked with MetaApi first, then kept in Secrets Manager. It is never answered back: "
        "GET only says whether one is stored. Accounts linked with it are served with it."
    ),
    tags=["settings"],
    security=SIGNED_IN,
    responses=answers("Stored", {**SIGNED_IN_ERRORS, **METAAPI_ERRORS}),
)
def store_token(
    user_id: Caller, request: Annotated[TokenInput, Body(embed=False)], access: Access
) -> TokenStatus:
    return logic.store_token(user_id, request, access=access)


@router.get(
    "/settings/metaapi-token",
    summary="Whether you stored your own MetaApi token",
    tags=["settings"],
    security=SIGNED_IN,
    responses=answers("Whether a token is stored", SIGNED_IN_ERRORS),
)
def token_status(user_id: Caller, access: Access) -> TokenStatus:
    return logic.token_status(user_id, access=access)


@router.delete(
    "/settings/metaapi-token",
    summary="Remove your MetaApi token",
    tags=["settings"],
    security=SIGNED_IN,
    responses=answers("Removed (or there was none)", SIGNED_IN_ERRORS, status=204),
)
def delete_token(user_id: Caller, access: Access) -> Response[None]:
    logic.delete_token(user_id, access=access)
    return Response(status_code=204)

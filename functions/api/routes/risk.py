"""Risk: an account's limits, the kill switch, where the account stands, and order previews."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Depends
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.identity import caller_id
from functions.api.openapi import ACCOUNT_ERRORS, LIVE_ERRORS, SIGNED_IN, SIGNED_IN_ERRORS, answers
from mtcore.accounts import AccountsRepository, get_accounts_repository
from mtcore.risk import RiskProfile, RiskRepository, get_risk_repository
from mtcore.risk import profiles as risk_profiles
from mtcore.trading import TradeDesk, get_trade_desk, risk_controls
from mtcore.trading.bodies import NewOrder
from mtcore.trading.risk_controls import HaltRequest, HaltState, Preview, RiskStatus

router = APIGatewayRouter()

Caller = Annotated[str, Depends(caller_id)]
Desk = Annotated[TradeDesk, Depends(get_trade_desk)]
Accounts = Annotated[AccountsRepository, Depends(get_accounts_repository)]
Risk = Annotated[RiskRepository, Depends(get_risk_repository)]
AccountId = Annotated[str, Path(max_length=64, description="Our id of the linked account")]
HALT = (
    "Stops every entry (market or pending order) not yet sent, on this account and at acceptance; "
    "closing, reducing and canceling go on. With flatten, also closes every position and cancels "
    "every pending order through the order queue: one parent request with a child per item, as "
    "closing all positions does. Halting again while a flatten is under way answers that one."
)


def _route(
    summary: str, success: str, errors: dict[int, Any], description: str | None = None
) -> dict[str, Any]:
    return {
        "summary": summary,
        "description": description,
        "tags": ["risk"],
        "security": SIGNED_IN,
        "responses": answers(success, errors),
    }


@router.get(
    "/accounts/<account_id>/risk", **_route("The account's risk limits", "The risk profile", ACCOUNT_ERRORS)
)
def get_risk(user_id: Caller, account_id: AccountId, accounts: Accounts, risk: Risk) -> RiskProfile:
    return risk_profiles.get_profile(user_id, account_id, accounts=accounts, risk=risk)


@router.put(
    "/accounts/<account_id>/risk",
    **_route(
        "Set the account's risk limits",
        "The stored profile, with updatedAt",
        ACCOUNT_ERRORS,
        "Replaces the profile: every field is optional, and one left out is no limit. The rules "
        "apply to entries (market and pending orders) when they are accepted and again before "
        "they are sent; closing, reducing and canceling are never refused by them.",
    ),
)
def put_risk(
    user_id: Caller,
    account_id: AccountId,
    profile: Annotated[RiskProfile, Body(embed=False)],
    accounts: Accounts,
    risk: Risk,
) -> RiskProfile:
    return risk_profiles.put_profile(user_id, account_id, profile, accounts=accounts, risk=risk)


@router.get(
    "/accounts/<account_id>/risk/status",
    **_route(
        "Where the account stands against its limits",
        "Halted or not and why, today's profit and loss, drawdown, trades today, and each limit's usage",
        LIVE_ERRORS,
    ),
)
def get_status(user_id: Caller, account_id: AccountId, desk: Desk) -> RiskStatus:
    return risk_controls.status(user_id, account_id, desk=desk)


@router.post(
    "/accounts/<account_id>/risk/halt", **_route("Halt trading on the account", "Halted", LIVE_ERRORS, HALT)
)
def halt(
    user_id: Caller, account_id: AccountId, request: Annotated[HaltRequest, Body(embed=False)], desk: Desk
) -> HaltState:
    return risk_controls.halt(user_id, account_id, request, desk=desk)


@router.post(
    "/accounts/<account_id>/risk/resume", **_route("Resume trading on the account", "Resumed", ACCOUNT_ERRORS)
)
def resume(user_id: Caller, account_id: AccountId, desk: Desk) -> HaltState:
    return risk_controls.resume(user_id, account_id, desk=desk)


@router.post(
    "/risk/halt",
    **_route("Halt trading on all your accounts", "Each account, halted", SIGNED_IN_ERRORS, HALT),
)
def halt_all(
    user_id: Caller, request: Annotated[HaltRequest, Body(embed=False)], desk: Desk
) -> list[HaltState]:
    return risk_controls.halt_all(user_id, request, desk=desk)


@router.post(
    "/risk/resume", **_route("Resume trading on all your accounts", "Each account, resumed", SIGNED_IN_ERRORS)
)
def resume_all(user_id: Caller, desk: Desk) -> list[HaltState]:
    return risk_controls.resume_all(user_id, desk=desk)


@router.post(
    "/accounts/<account_id>/risk/preview",
    **_route(
        "Preview an order without queueing it",
        "The volume, the price used, the loss at the stop loss and profit at the take profit (money "
        "and % of equity), reward/risk, the margin needed, and every check with its outcome",
        LIVE_ERRORS,
    ),
)
def preview(
    user_id: Caller, account_id: AccountId, order: Annotated[NewOrder, Body(embed=False)], desk: Desk
) -> Preview:
    return risk_controls.preview(user_id, account_id, order, desk=desk)

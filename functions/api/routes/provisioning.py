"""An account's life at MetaApi: deploy, undeploy and redeploy (202, followed on the account), its
connection test, and a fresh configuration link for an account the platform created."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Depends, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.identity import caller_id
from functions.api.openapi import ACCOUNT_ERRORS, LIVE_ERRORS, SIGNED_IN, answers, error_answer, location
from mtcore.accounts import (
    Account,
    AccountsRepository,
    MetaApiAccess,
    Operation,
    get_accounts_repository,
    get_metaapi_access,
)
from mtcore.provisioning import lifecycle
from mtcore.provisioning.lifecycle import ProvisioningDesk, get_provisioning_desk
from mtcore.provisioning.models import ConfigurationLink, ConnectionTest

router = APIGatewayRouter()

Caller = Annotated[str, Depends(caller_id)]
Desk = Annotated[ProvisioningDesk, Depends(get_provisioning_desk)]
Accounts = Annotated[AccountsRepository, Depends(get_accounts_repository)]
Access = Annotated[MetaApiAccess, Depends(get_metaapi_access)]
AccountId = Annotated[str, Path(max_length=64, description="Our id of the account")]
OPERATION_ERRORS: dict[int, Any] = {
    **ACCOUNT_ERRORS,
    409: error_answer(
        "Not now: MetaApi has no account for it yet (ACCOUNT_NOT_READY), it is being created or removed "
        "(PROVISIONING_IN_PROGRESS), or a trade is still being executed (TRADES_IN_FLIGHT)"
    ),
}


def _operation(summary: str, description: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "description": f"{description} Answers 202 with the account at once: follow Location "
        "(`provisioningStatus`, and each step with its time in `provisioning.steps`).",
        "tags": ["accounts"],
        "security": SIGNED_IN,
        "responses": answers("Accepted: the account", OPERATION_ERRORS, status=202),
    }


def _started(account: Account) -> Response[Account]:
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=account,
        headers={"Location": location("accounts", account.id)},
    )


@router.post(
    "/accounts/<account_id>/deploy",
    **_operation(
        "Deploy an account at MetaApi",
        "Starts its terminal: DEPLOYING until deployed, connected and a first snapshot taken, then READY "
        "and synced on schedule again.",
    ),
)
def deploy(user_id: Caller, account_id: AccountId, desk: Desk) -> Response[Account]:
    return _started(lifecycle.start(user_id, account_id, Operation.DEPLOY, desk=desk))


@router.post(
    "/accounts/<account_id>/undeploy",
    **_operation(
        "Undeploy an account at MetaApi",
        "Stops its terminal: UNDEPLOYING, then UNDEPLOYED. No syncs and no trades (409 ACCOUNT_UNDEPLOYED) "
        "until it is deployed again. Refused while a trade is still being executed.",
    ),
)
def undeploy(user_id: Caller, account_id: AccountId, desk: Desk) -> Response[Account]:
    return _started(lifecycle.start(user_id, account_id, Operation.UNDEPLOY, desk=desk))


@router.post(
    "/accounts/<account_id>/redeploy",
    **_operation(
        "Redeploy an account at MetaApi",
        "Restarts its terminal (after a new password, or when it will not connect): DEPLOYING, then READY. "
        "Refused while a trade is still being executed.",
    ),
)
def redeploy(user_id: Caller, account_id: AccountId, desk: Desk) -> Response[Account]:
    return _started(lifecycle.start(user_id, account_id, Operation.REDEPLOY, desk=desk))


@router.get(
    "/accounts/<account_id>/test",
    summary="Test an account's connection",
    description=(
        "Asks MetaApi now: the deployment state, the connection status, the broker's server time and "
        "how long it took to come back, and a verdict: connected, deploying, disconnected from the "
        "broker, credentials refused, undeployed, awaiting credentials or not created."
    ),
    tags=["accounts"],
    security=SIGNED_IN,
    responses=answers("The test", LIVE_ERRORS),
)
def test_connection(
    user_id: Caller, account_id: AccountId, accounts: Accounts, access: Access
) -> ConnectionTest:
    return lifecycle.test_connection(user_id, account_id, access=access, accounts=accounts)


@router.get(
    "/accounts/<account_id>/configuration-link",
    summary="A fresh configuration link",
    description=(
        "MetaApi's page where the trader types the account's login and password: for a draft, or to give "
        "an account the platform created a new password (then redeploy it). Valid 7 days. A draft is "
        "watched for its credentials again from now, and deployed once they are there."
    ),
    tags=["accounts"],
    security=SIGNED_IN,
    responses=answers(
        "The link",
        {
            **LIVE_ERRORS,
            409: error_answer(
                "A linked account (not created here), or one MetaApi has not created yet (ACCOUNT_NOT_READY)"
            ),
        },
    ),
)
def configuration_link(user_id: Caller, account_id: AccountId, desk: Desk) -> ConfigurationLink:
    return lifecycle.configuration_link(user_id, account_id, desk=desk)

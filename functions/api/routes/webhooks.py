"""Webhooks: where alerts from TradingView and other senders come in, and their signal log. The
intake itself (`POST /api/webhooks/{id}`) is its own function."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Depends, Request, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.identity import caller_id
from functions.api.openapi import SIGNED_IN, SIGNED_IN_ERRORS, answers, error_answer, location
from mtcore.accounts import AccountsRepository, get_accounts_repository
from mtcore.signals import webhooks as logic
from mtcore.signals.models import NewWebhook, Signal, SignalPage, Webhook, WebhookPage, WebhookSettings
from mtcore.signals.repository import SignalsRepository, get_signals_repository
from mtcore.trading.repository import TradesRepository, get_trades_repository

router = APIGatewayRouter()

Caller = Annotated[str, Depends(caller_id)]
Accounts = Annotated[AccountsRepository, Depends(get_accounts_repository)]
Webhooks = Annotated[SignalsRepository, Depends(get_signals_repository)]
Trades = Annotated[TradesRepository, Depends(get_trades_repository)]
WebhookId = Annotated[str, Path(max_length=64, description="The webhook's id")]
WEBHOOK_ERRORS: dict[int, Any] = {
    404: error_answer("No such webhook among the caller's"),
    **SIGNED_IN_ERRORS,
}
SETTINGS_ERRORS: dict[int, Any] = {
    404: error_answer("No such webhook, or an account named is not among the caller's"),
    **SIGNED_IN_ERRORS,
}
SETTINGS_HELP = (
    "Alerts go to the webhook's `url`: JSON (`action`, `symbol`, `volume` or `sizing`, levels, `signalId`, "
    "`secret`), the same JSON as text/plain, or PineConnector-style lines "
    "`SECRET,buy,EURUSD,risk=1,sl=20,tp=40`. "
    "Each alert becomes one trade request per account, resolved when it is executed: the symbol as the "
    "account's broker names it (`symbolMap`, else exact, suffixed or prefixed names, common aliases), the "
    "volume from the account's money then, the account's own risk limits and halt."
)


def base_url(request: Request) -> str:
    """Where this API is reached from outside, for the webhook's `url`."""
    event = request.resolved_event.raw_event
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    scheme = headers.get("x-forwarded-proto") or "http"
    host = headers.get("host") or "localhost"
    context = event.get("requestContext") or {}
    # Deployed, the stage leads the path (/prod/api/...); the local gateway has none.
    stage_prefix = str(context.get("path") or "").removesuffix(str(event.get("path") or ""))
    return f"{scheme}://{host}{stage_prefix}"


BaseUrl = Annotated[str, Depends(base_url)]


def _route(summary: str, success: str, errors: dict[int, Any], **more: Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "tags": ["webhooks"],
        "security": SIGNED_IN,
        "responses": answers(success, errors, **more),
    }


@router.post(
    "/webhooks",
    description=SETTINGS_HELP + " The answer carries the `secret`: it is shown only here and when rotated.",
    **_route("Create a webhook", "The webhook, with its url and secret", SETTINGS_ERRORS, status=201),
)
def create_webhook(
    user_id: Caller,
    settings: Annotated[WebhookSettings, Body(embed=False)],
    url: BaseUrl,
    accounts: Accounts,
    webhooks: Webhooks,
) -> Response[NewWebhook]:
    created = logic.create(user_id, settings, base_url=url, accounts=accounts, webhooks=webhooks)
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=created,
        headers={"Location": location("webhooks", created.id)},
    )


@router.get(
    "/webhooks", **_route("The caller's webhooks", "Every webhook, without secrets", SIGNED_IN_ERRORS)
)
def list_webhooks(user_id: Caller, url: BaseUrl, webhooks: Webhooks) -> WebhookPage:
    return WebhookPage(items=logic.list_all(user_id, base_url=url, webhooks=webhooks))


@router.get(
    "/webhooks/<webhook_id>", **_route("One webhook", "The webhook, without its secret", WEBHOOK_ERRORS)
)
def get_webhook(user_id: Caller, webhook_id: WebhookId, url: BaseUrl, webhooks: Webhooks) -> Webhook:
    return logic.get(user_id, webhook_id, base_url=url, webhooks=webhooks)


@router.put(
    "/webhooks/<webhook_id>",
    description="Replaces the settings; the secret stays. " + SETTINGS_HELP,
    **_route("Change a webhook", "The webhook", SETTINGS_ERRORS),
)
def update_webhook(
    user_id: Caller,
    webhook_id: WebhookId,
    settings: Annotated[WebhookSettings, Body(embed=False)],
    url: BaseUrl,
    accounts: Accounts,
    webhooks: Webhooks,
) -> Webhook:
    return logic.update(user_id, webhook_id, settings, base_url=url, accounts=accounts, webhooks=webhooks)


@router.delete(
    "/webhooks/<webhook_id>",
    description="Alerts to it are refused from now on (401, as for an unknown webhook).",
    **_route("Remove a webhook", "Removed", WEBHOOK_ERRORS, status=204),
)
def delete_webhook(user_id: Caller, webhook_id: WebhookId, webhooks: Webhooks) -> Response[None]:
    logic.delete(user_id, webhook_id, webhooks=webhooks)
    return Response(status_code=204)


@router.post(
    "/webhooks/<webhook_id>/secret",
    description="The new secret is shown only in this answer; the old one stops working at once.",
    **_route("Rotate the webhook's secret", "The webhook with its new secret", WEBHOOK_ERRORS),
)
def rotate_secret(user_id: Caller, webhook_id: WebhookId, url: BaseUrl, webhooks: Webhooks) -> NewWebhook:
    return logic.rotate_secret(user_id, webhook_id, base_url=url, webhooks=webhooks)


@router.get(
    "/webhooks/<webhook_id>/signals",
    description=(
        "Every request the webhook received in the last 30 days, the refused ones too: when, from where, "
        "the body with the secret redacted, the commands read, the outcome and why, and per account the "
        "symbol used, the trade request and its status now."
    ),
    **_route("The webhook's signal log", "Newest first", WEBHOOK_ERRORS),
)
def list_signals(
    user_id: Caller,
    webhook_id: WebhookId,
    webhooks: Webhooks,
    trades: Trades,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 25,
    next_token: Annotated[
        str | None, Query(alias="nextToken", max_length=2048, description="From the previous page")
    ] = None,
) -> SignalPage:
    return logic.signals(
        user_id, webhook_id, limit=limit, next_token=next_token, webhooks=webhooks, trades=trades
    )


@router.get(
    "/webhooks/<webhook_id>/signals/<signal_id>",
    **_route(
        "One signal",
        "The signal, with its trades' status now",
        {**WEBHOOK_ERRORS, 404: error_answer("No such webhook among the caller's, or no such signal on it")},
    ),
)
def get_signal(
    user_id: Caller,
    webhook_id: WebhookId,
    signal_id: Annotated[str, Path(max_length=64, description="The signal's id")],
    webhooks: Webhooks,
    trades: Trades,
) -> Signal:
    return logic.signal(user_id, webhook_id, signal_id, webhooks=webhooks, trades=trades)

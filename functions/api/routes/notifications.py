"""Notification settings: where each kind of event goes, the Telegram link, a test message."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.identity import caller_id
from functions.api.openapi import SIGNED_IN, SIGNED_IN_ERRORS, answers, error_answer
from mtcore.notifications.models import Preferences, PreferencesChange, TelegramLink, TestResult
from mtcore.notifications.preferences import NotificationSettings, get_notification_settings

router = APIGatewayRouter()

Caller = Annotated[str, Depends(caller_id)]
Settings = Annotated[NotificationSettings, Depends(get_notification_settings)]
TAGS = ["notifications"]


@router.get(
    "/settings/notifications",
    summary="Your notification settings",
    description=(
        "Telegram and email, and for each kind of event the channels it goes to. Defaults: errors, "
        "risk and disconnects on both; every fill and close on Telegram only; the daily summary by email."
    ),
    tags=TAGS,
    security=SIGNED_IN,
    responses=answers("The settings", SIGNED_IN_ERRORS),
)
def get_preferences(user_id: Caller, settings: Settings) -> Preferences:
    return settings.get(user_id)


@router.put(
    "/settings/notifications",
    summary="Change your notification settings",
    description="What is sent replaces what was (per event kind); what is not sent stays.",
    tags=TAGS,
    security=SIGNED_IN,
    responses=answers("The settings now", SIGNED_IN_ERRORS),
)
def change_preferences(
    user_id: Caller, change: Annotated[PreferencesChange, Body(embed=False)], settings: Settings
) -> Preferences:
    return settings.change(user_id, change)


@router.post(
    "/settings/notifications/test",
    summary="Send a test message to each enabled channel",
    tags=TAGS,
    security=SIGNED_IN,
    responses=answers("What each channel said", SIGNED_IN_ERRORS),
)
def test_notifications(user_id: Caller, settings: Settings) -> TestResult:
    return settings.test(user_id)


TELEGRAM_ERRORS: dict[int, Any] = {
    **SIGNED_IN_ERRORS,
    409: error_answer("This deployment has no Telegram bot"),
}


@router.post(
    "/settings/notifications/telegram/link",
    summary="Link a Telegram chat",
    description=(
        "A one-time code (15 minutes) and a t.me link that opens the bot with it: the chat that sends "
        "`/start <code>` is linked to you, with no chat id to type. A new link replaces the chat "
        "linked before."
    ),
    tags=TAGS,
    security=SIGNED_IN,
    responses=answers("The code and link", TELEGRAM_ERRORS),
)
def link_telegram(user_id: Caller, settings: Settings) -> TelegramLink:
    return settings.link_telegram(user_id)


@router.delete(
    "/settings/notifications/telegram",
    summary="Unlink your Telegram chat",
    tags=TAGS,
    security=SIGNED_IN,
    responses=answers("Unlinked", SIGNED_IN_ERRORS, status=204),
)
def unlink_telegram(user_id: Caller, settings: Settings) -> Response[None]:
    settings.unlink_telegram(user_id)
    return Response(status_code=204)

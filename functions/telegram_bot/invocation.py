"""One update from Telegram: refused (401) without the webhook's secret token; otherwise handed to
the bot, and answered 200 whatever became of it, so Telegram does not send it again."""

from __future__ import annotations

import hmac
import json
from typing import Any

from mtcore.notifications.bot import Bot
from mtcore.notifications.delivery import get_recipients
from mtcore.notifications.telegram import get_bot_secrets, get_telegram_bot
from mtcore.observability import logger
from mtcore.trading import get_keyless_desk

SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header's name


def _answer(status: int) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"ok": status == 200}),
    }


def handle(event: dict[str, Any]) -> dict[str, Any]:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    expected = get_bot_secrets().webhook_secret()
    sent = str(headers.get(SECRET_HEADER) or "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        logger.warning("telegram webhook call refused: wrong secret token")
        return _answer(401)
    bot = get_telegram_bot()
    try:
        update = json.loads(event.get("body") or "{}")
    except ValueError:
        return _answer(200)
    if bot is None or not isinstance(update, dict):
        return _answer(200)
    Bot(recipients=get_recipients(), desk=get_keyless_desk(), bot=bot).handle(update)
    return _answer(200)

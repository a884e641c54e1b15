"""Lambda entry point of the Telegram bot's webhook (`POST /api/telegram/webhook`, public: Telegram
proves itself with the `X-Telegram-Bot-Api-Secret-Token` header).

Init loads Powertools' logger only; the rest (`invocation`) loads with the first update."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mtcore.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from functions.telegram_bot.invocation import handle

    return handle(event)

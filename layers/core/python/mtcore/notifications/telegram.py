"""Telegram's Bot API: `sendMessage` over HTTPS with the bot's token, read from Secrets Manager and
kept by the container. The token is part of every request's path, so no URL is ever logged."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import urllib3

from mtcore.aws import secretsmanager_client
from mtcore.metaapi.http import decode_json, encode_json, http_pool
from mtcore.notifications.errors import NotSent
from mtcore.observability import record_call
from mtcore.secrets import SecretStore
from mtcore.settings import get_settings

if TYPE_CHECKING:
    pass

# Secrets are read again after this long: a replaced token reaches every container.
SECRETS_KEPT_S = 300.0
# Telegram's own limit for one message.
MAX_TEXT = 4096


class TelegramError(NotSent):
    """Telegram did not take the message."""


class TelegramRateLimited(TelegramError):
    def __init__(self, description: str, retry_after_seconds: float) -> None:
        super().__init__(description, permanent=False)
        self.retry_after_seconds = retry_after_seconds


@dataclass
class BotSecrets:
    """The bot's token and the secret Telegram sends back with every webhook call."""

    secrets: SecretStore
    token_secret_id: str | None
    webhook_secret_id: str | None

    def token(self) -> str | None:
        return self.secrets.read(self.token_secret_id) if self.token_secret_id else None

    def webhook_secret(self) -> str | None:
        return self.secrets.read(self.webhook_secret_id) if self.webhook_secret_id else None


class TelegramBot:
    def __init__(self, token: str, *, base_url: str, http: urllib3.PoolManager) -> None:
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._http = http

    def send(self, chat_id: int, text: str) -> None:
        """Plain text (no markup to escape), without link previews."""
        body = {"chat_id": chat_id, "text": text[:MAX_TEXT], "disable_web_page_preview": True}
        began, status = time.perf_counter(), None
        try:
            response = self._http.request(
                "POST",
                f"{self._base_url}/bot{self._token}/sendMessage",
                body=encode_json(body),
                headers={"Content-Type": "application/json"},
                timeout=urllib3.Timeout(connect=3, read=10),
                retries=False,
            )
            status = response.status
        except urllib3.exceptions.HTTPError:
            raise TelegramError("Telegram could not be reached", permanent=False) from None
        finally:
            record_call("Telegram", "sendMessage", time.perf_counter() - began, status=status)
        answer: Any = decode_json(response.data) or {}
        if response.status == 200 and answer.get("ok"):
            return
        description = str(answer.get("description") or f"Telegram answered HTTP {response.status}")
        if response.status == 429:
            retry_after = (answer.get("parameters") or {}).get("retry_after", 1)
            raise TelegramRateLimited(description, float(retry_after))
        raise TelegramError(description, permanent=400 <= response.status < 500)


@lru_cache(maxsize=1)
def get_bot_secrets() -> BotSecrets:
    settings = get_settings()
    return BotSecrets(
        SecretStore(secretsmanager_client(), kept_s=SECRETS_KEPT_S),
        token_secret_id=settings.telegram_bot_token_secret_id,
        webhook_secret_id=settings.telegram_webhook_secret_id,
    )


def get_telegram_bot() -> TelegramBot | None:
    """The bot, or None where no token is stored (Telegram then sends nothing)."""
    token = get_bot_secrets().token()
    if not token:
        return None
    return TelegramBot(token, base_url=get_settings().telegram_api_url, http=http_pool())

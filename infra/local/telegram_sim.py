"""A Telegram Bot API simulator for the local stack and the tests (http://localhost:3003).

It answers the calls the notifier and the bot make (`/bot<token>/sendMessage`, and any other
method with `{"ok": true}`), refuses any other token with Telegram's 401, and records what the bot
sent. Its admin API:

- `POST /_sim/telegram/updates` `{"chatId": 123, "text": "/start CODE"}`: delivers an update to the
  bot's webhook as if a person had typed it (with the webhook's secret token, as Telegram sends
  it), and answers `{"status": <the webhook's HTTP status>}`;
- `GET /_sim/telegram/messages?chatId=123`: what the bot sent to that chat, oldest first (each
  with `receivedAt`);
- `POST /_sim/telegram/faults` `{"retryAfter": 2, "count": 1}`: the next `count` sendMessage calls
  answer Telegram's 429 with that `retry_after`.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import urllib3
from werkzeug.wrappers import Request, Response

BOT_USERNAME = "mt_backend_local_bot"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header's name


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json")


@dataclass
class TelegramSimulator:
    token: str
    # Where updates go, and the secret token Telegram sends with them (set once the stack knows).
    webhook_url: str | None = None
    webhook_secret: Callable[[], str | None] = lambda: None
    _messages: list[dict[str, Any]] = field(default_factory=list)
    _rate_limits: list[int] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self._respond(Request(environ))(environ, start_response)

    def _respond(self, request: Request) -> Response:
        path = request.path
        if path == "/_sim/telegram/updates" and request.method == "POST":
            return self._deliver(request)
        if path == "/_sim/telegram/messages" and request.method == "GET":
            return self._sent(request)
        if path == "/_sim/telegram/faults" and request.method == "POST":
            return self._arm(request)
        if path.startswith("/bot"):
            token, _, method = path.removeprefix("/bot").partition("/")
            if token != self.token:
                return _json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
            if method == "sendMessage":
                return self._send_message(request)
            return _json({"ok": True, "result": True})
        return _json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

    def _send_message(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        chat_id, text = body.get("chat_id"), body.get("text")
        if not isinstance(chat_id, int) or not isinstance(text, str) or not text:
            return _json(
                {"ok": False, "error_code": 400, "description": "Bad Request: chat_id and text needed"}, 400
            )
        with self._lock:
            if self._rate_limits:
                retry_after = self._rate_limits.pop(0)
                return _json(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {retry_after}",
                        "parameters": {"retry_after": retry_after},
                    },
                    429,
                )
            message = {
                "message_id": next(self._ids),
                "chatId": chat_id,
                "text": text,
                "date": int(time.time()),
                # When it arrived, to the microsecond (a benchmark times what reaches the chat).
                "receivedAt": datetime.now(UTC).isoformat(),
            }
            self._messages.append(message)
        return _json(
            {
                "ok": True,
                "result": {"message_id": message["message_id"], "chat": {"id": chat_id}, "text": text},
            }
        )

    def _sent(self, request: Request) -> Response:
        chat = request.args.get("chatId")
        with self._lock:
            sent = [m for m in self._messages if chat is None or str(m["chatId"]) == chat]
        return _json(sent)

    def _arm(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        retry_after, count = body.get("retryAfter", 1), body.get("count", 1)
        if not isinstance(retry_after, int) or not isinstance(count, int) or retry_after < 0 or count < 1:
            return _json({"message": "retryAfter (>= 0) and count (>= 1) are whole numbers"}, 400)
        with self._lock:
            self._rate_limits += [retry_after] * count
        return _json({"armed": count}, 201)

    def _deliver(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        chat_id, text = body.get("chatId"), body.get("text")
        if not isinstance(chat_id, int) or not isinstance(text, str) or self.webhook_url is None:
            return _json({"message": "chatId (a number) and text are needed, and a webhook"}, 400)
        update = {
            "update_id": next(self._ids),
            "message": {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "Trader"},
                "text": text,
            },
        }
        headers = {"Content-Type": "application/json", SECRET_HEADER: self.webhook_secret() or ""}
        answer = urllib3.request(
            "POST", self.webhook_url, body=json.dumps(update).encode(), headers=headers, timeout=30
        )
        return _json({"status": answer.status})

"""Notifications through the local stack: a chat linked in the Telegram simulator as a person
would link it, then a trade that reaches it there and by email (moto's SES)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e
CHAT = 555000111
SETTINGS = "/api/metatrader/settings/notifications"


def _eventually(seconds: float, found: Callable[[], list[object]]) -> list[object]:
    deadline = time.monotonic() + seconds
    while not (answer := found()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return answer


def test_a_trade_reaches_the_linked_telegram_chat_and_the_inbox(
    local_stack: RunningStack, demo: tuple[requests.Session, str, str]
) -> None:
    session, account, _ = demo
    code = session.post(f"{local_stack.url}{SETTINGS}/telegram/link", timeout=10).json()["code"]
    typed = requests.post(
        f"{local_stack.telegram_url}/_sim/telegram/updates",
        json={"chatId": CHAT, "text": f"/start {code}"},
        timeout=30,
    )
    assert typed.json() == {"status": 200}
    changed = session.put(
        f"{local_stack.url}{SETTINGS}",
        json={
            "email": {"enabled": True, "address": "demo@example.com"},
            "events": {"tradeExecuted": ["telegram", "email"]},
        },
        timeout=10,
    )
    assert changed.status_code == 200, changed.text

    accepted = session.post(
        f"{account}/orders",
        json={"symbol": "BTCUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.01},
        timeout=10,
    )
    assert accepted.status_code == 202

    def telegram() -> list[object]:
        sent = requests.get(
            f"{local_stack.telegram_url}/_sim/telegram/messages", params={"chatId": CHAT}, timeout=10
        )
        return [m["text"] for m in sent.json() if m["text"].startswith("Bought 0.01 BTCUSD")]

    def inbox() -> list[object]:
        mail = requests.get(f"{local_stack.url}/_local/mail", params={"to": "demo@example.com"}, timeout=10)
        return [m["subject"] for m in mail.json()]

    assert len(_eventually(10, telegram)) == 1
    assert _eventually(10, inbox) == ["Demo account: trade executed"]

    requests.post(
        f"{local_stack.telegram_url}/_sim/telegram/updates",
        json={"chatId": CHAT, "text": "/status"},
        timeout=30,
    )
    assert any(
        "Demo account" in str(text)
        for text in _eventually(
            5,
            lambda: [
                m["text"]
                for m in requests.get(
                    f"{local_stack.telegram_url}/_sim/telegram/messages", params={"chatId": CHAT}, timeout=10
                ).json()
                if "equity" in m["text"]
            ],
        )
    )

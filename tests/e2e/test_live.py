"""Live pushes through the local stack: real WebSocket clients on its WebSocket API, and the live
page in a real browser (Chromium from Debian's packages, driven by Playwright)."""

from __future__ import annotations

import json
import shutil
import time
from typing import Any

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e
ORDER = {"symbol": "BTCUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.01}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _connect(stack: RunningStack, user: str) -> ClientConnection:
    return connect(f"{stack.websocket_url}/?token={stack.token(user)}", open_timeout=10)


def _frames(client: ClientConnection, until: Any, seconds: float) -> list[dict[str, Any]]:
    received, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            received.append(json.loads(client.recv(timeout=left)))
        except TimeoutError:
            break
        if until(received):
            break
    return received


def test_a_trade_is_pushed_to_its_owner_within_two_seconds_and_to_nobody_else(
    local_stack: RunningStack, demo: tuple[requests.Session, str, str]
) -> None:
    session, account, _ = demo
    with pytest.raises(InvalidStatus):
        connect(f"{local_stack.websocket_url}/?token=not-a-token", open_timeout=10)
    with _connect(local_stack, "demo") as owner, _connect(local_stack, "bob") as other:
        started = time.monotonic()
        accepted = session.post(f"{account}/orders", json=ORDER, timeout=10)
        seen = _frames(
            owner, lambda frames: any(f.get("detailType") == "PositionOpened" for f in frames), seconds=5
        )
        elapsed = time.monotonic() - started

        assert accepted.status_code == 202
        kinds = [frame.get("detailType") for frame in seen]
        assert "TradeExecuted" in kinds
        assert "PositionOpened" in kinds
        assert elapsed < 2
        assert _frames(other, lambda _: False, seconds=0.5) == []


def test_the_live_page_shows_a_position_a_trade_opened(
    local_stack: RunningStack, demo: tuple[requests.Session, str, str]
) -> None:
    from playwright.sync_api import expect, sync_playwright

    session, account, _ = demo
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        try:
            page = browser.new_page()
            page.goto(f"{local_stack.url}/")
            page.fill("#signin-user", "demo")
            page.click("#signin")
            expect(page.locator("#status")).to_have_text("live", timeout=15_000)
            shown = page.locator("#positions tbody tr").count()

            accepted = session.post(f"{account}/orders", json=ORDER, timeout=10)
            trade_id = accepted.json()["id"]

            expect(page.locator(f'#trades tr[data-id="{trade_id}"]')).to_have_attribute(
                "data-status", "EXECUTED", timeout=10_000
            )
            expect(page.locator("#positions tbody tr")).to_have_count(shown + 1, timeout=10_000)
            expect(page.locator("#positions tbody tr").last).to_contain_text("BTCUSD")
        finally:
            browser.close()

"""A TradingView-style alert over HTTP to the local stack becomes a position, with the source
address taken from the connection, as API Gateway takes it."""

from __future__ import annotations

import json

import pytest
import requests

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e
TRADINGVIEW_IP = "52.89.214.238"


def test_a_tradingview_alert_becomes_a_position(
    local_stack: RunningStack, demo: tuple[requests.Session, str, str]
) -> None:
    session, account, _ = demo
    account_id = account.rsplit("/", 1)[1]
    webhooks = f"{local_stack.url}/api/metatrader/webhooks"
    local = session.post(
        webhooks,
        json={"name": "tv", "accountIds": [account_id], "auth": {"allowedIps": ["127.0.0.1"]}},
        timeout=10,
    )
    assert local.status_code == 201, local.text
    hook = local.json()
    assert hook["url"] == f"{local_stack.url}/api/webhooks/{hook['id']}"
    # TradingView sends a message that parses as JSON as application/json, else as text/plain.
    # BTCUSD trades around the clock: the test holds on a weekend too.
    alert = json.dumps(
        {"action": "buy", "symbol": "BTCUSD", "volume": 0.05, "sl": 500, "secret": hook["secret"]}
    )
    sent = requests.post(
        hook["url"],
        data=alert,
        headers={"Content-Type": "text/plain", "X-Forwarded-For": TRADINGVIEW_IP},
        timeout=5,
    )
    assert sent.status_code == 202, sent.text
    (target,) = sent.json()["accounts"]
    trade = session.get(f"{account}/trades/{target['tradeId']}", params={"wait": 10}, timeout=30).json()
    assert trade["status"] == "EXECUTED", trade
    positions = session.get(f"{account}/positions", timeout=10).json()
    assert any(p["symbol"] == "BTCUSD" and p["volume"] == 0.05 and p["stopLoss"] for p in positions), (
        positions
    )
    signal = session.get(f"{webhooks}/{hook['id']}/signals/{sent.json()['signalId']}", timeout=10).json()
    assert signal["sourceIp"] == "127.0.0.1"
    assert hook["secret"] not in signal["body"]

    # A client header never stands in for the connection's address.
    tradingview_only = session.post(
        webhooks,
        json={"name": "tv2", "accountIds": [account_id], "auth": {"allowedIps": "tradingview"}},
        timeout=10,
    ).json()
    spoofed = requests.post(
        tradingview_only["url"],
        data=alert.replace(hook["secret"], tradingview_only["secret"]),
        headers={"Content-Type": "application/json", "X-Forwarded-For": TRADINGVIEW_IP},
        timeout=5,
    )
    assert spoofed.status_code == 401, spoofed.text
    assert hook["secret"] not in "".join(local_stack.output)

"""From `POST /orders` to `EXECUTED`, through the local stack over HTTP (simulator answering at once),
and how late a parked trade is sent again."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import requests

from infra.local.stack import DEMO_USER, SIMULATED_PLATFORM_TOKEN, free_port

ROOT = Path(__file__).resolve().parents[2]
# Crypto trades every day, so the figure does not depend on the weekday it is measured.
ORDER = {"symbol": "BTCUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.01}
SYNCED_ORDERS = 10
PARKED_RETRY_AFTER_S = 20


def _start_local_stack(
    websocket_port: int = 0, telegram_port: int = 0
) -> tuple[str, str, subprocess.Popen[bytes]]:
    """The local stack in a process of its own: its API's and simulator's URLs, and the process.
    Its WebSocket API and Telegram simulator listen on the ports given (free ones otherwise)."""
    api_port, simulator_port = free_port("127.0.0.1"), free_port("127.0.0.1")
    websocket_port = websocket_port or free_port("127.0.0.1")
    telegram_port = telegram_port or free_port("127.0.0.1")
    api, simulator = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{simulator_port}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "infra.local",
            "--api-port",
            str(api_port),
            "--simulator-port",
            str(simulator_port),
            "--websocket-port",
            str(websocket_port),
            "--telegram-port",
            str(telegram_port),
        ],
        cwd=ROOT,
        # The simulator, whatever MetaApi account a developer's .env names.
        env={**os.environ, "METAAPI_TOKEN": "", "MT_ACCOUNT_ID": "", "TELEGRAM_BOT_TOKEN": ""},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return api, simulator, process


def _demo_account(api: str, simulator: str) -> tuple[requests.Session, str]:
    """The demo user's session and its linked demo account's id."""
    _wait_for(f"{api}/api/health")
    token = requests.post(f"{api}/api/dev/token", json={"userId": DEMO_USER}, timeout=10).json()["token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    listed = requests.get(
        f"{simulator}/users/current/accounts",
        headers={"auth-token": SIMULATED_PLATFORM_TOKEN},
        timeout=10,
    ).json()
    linked = session.post(
        f"{api}/api/metatrader/accounts", json={"metaapiAccountId": listed[0]["_id"]}, timeout=10
    )
    return session, linked.json()["id"]


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "count": len(ordered),
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[max(0, round(len(ordered) * 0.99) - 1)] * 1000,
    }


def order_latencies(count: int = 200) -> dict[str, float]:
    api, simulator, process = _start_local_stack()
    try:
        session, account_id = _demo_account(api, simulator)
        account = f"{api}/api/metatrader/accounts/{account_id}"
        samples = []
        for _ in range(count):
            started = time.perf_counter()
            accepted = session.post(f"{account}/orders", json=ORDER, timeout=10)
            final = session.get(
                f"{api}{accepted.headers['Location']}", params={"wait": 10}, timeout=20
            ).json()
            if final["status"] != "EXECUTED":
                raise RuntimeError(f"an order ended {final['status']}: {final.get('reason')}")
            samples.append(time.perf_counter() - started)
        synced = [_trade_to_sync_seconds(session, api, account) for _ in range(SYNCED_ORDERS)]
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {
        **_percentiles(samples),
        "sync_count": len(synced),
        "sync_p50_ms": statistics.median(synced) * 1000,
        "sync_max_ms": max(synced) * 1000,
    }


def intake_latencies(count: int = 500, *, shadow: bool, one_at_a_time: bool = False) -> dict[str, float]:
    """From sending an alert to the intake's 202, one alert after another as TradingView sends
    them, while the stack's executor resolves the alerts before them on the account: checked and
    sized only (`shadow`), or traded, each trade then synced. `one_at_a_time` waits for each
    alert's trade to end before sending the next, so nothing else runs meanwhile."""
    api, simulator, process = _start_local_stack()
    try:
        session, account_id = _demo_account(api, simulator)
        hook = session.post(
            f"{api}/api/metatrader/webhooks",
            json={"name": "bench", "accountIds": [account_id], "rateLimitPerMinute": 600, "shadow": shadow},
            timeout=10,
        ).json()
        sender = requests.Session()
        samples = []
        for number in range(count):
            alert = json.dumps(
                {
                    "action": "buy",
                    "symbol": "BTCUSD",
                    "volume": 0.01,
                    "signalId": str(number),
                    "secret": hook["secret"],
                }
            )
            started = time.perf_counter()
            answer = sender.post(
                hook["url"], data=alert, headers={"Content-Type": "application/json"}, timeout=10
            )
            samples.append(time.perf_counter() - started)
            if answer.status_code != 202:
                raise RuntimeError(f"an alert was answered {answer.status_code}: {answer.text}")
            if one_at_a_time:
                (target,) = answer.json()["accounts"]
                trade = f"{api}/api/metatrader/accounts/{account_id}/trades/{target['tradeId']}"
                session.get(trade, params={"wait": 10}, timeout=20).raise_for_status()
    finally:
        process.terminate()
        process.wait(timeout=30)
    return _percentiles(samples)


def parked_trade_sent_after_seconds() -> float:
    """How long after its `notBefore` a trade parked on a MetaApi 429 (advising 20 s) reaches the
    simulator again: the trade timer's delay queue hands it back to the account's FIFO group."""
    api, simulator, process = _start_local_stack()
    try:
        session, account_id = _demo_account(api, simulator)
        metaapi_id = session.get(f"{api}/api/metatrader/accounts/{account_id}", timeout=10).json()[
            "metaapiAccountId"
        ]
        simulated = f"{simulator}/_sim/accounts/{metaapi_id}"
        fault = {
            "endpoint": "trade",
            "kind": "http_429",
            "count": 1,
            "retryAfterSeconds": PARKED_RETRY_AFTER_S,
        }
        requests.post(f"{simulated}/faults", json=fault, timeout=10).raise_for_status()
        accepted = session.post(f"{api}/api/metatrader/accounts/{account_id}/orders", json=ORDER, timeout=10)
        trade = f"{api}{accepted.headers['Location']}"
        not_before = _not_before(session, trade)
        deadline = time.monotonic() + PARKED_RETRY_AFTER_S + 120
        while len(requests.get(f"{simulated}/trades", timeout=10).json()) < 2:
            if time.monotonic() > deadline:
                raise RuntimeError("a parked trade was not sent again within two minutes of its notBefore")
            time.sleep(0.02)
        sent_again = time.time()
        final = session.get(trade, params={"wait": 10}, timeout=20).json()
        if final["status"] != "EXECUTED":
            raise RuntimeError(f"the parked trade ended {final['status']}: {final.get('reason')}")
    finally:
        process.terminate()
        process.wait(timeout=30)
    return sent_again - not_before


def _not_before(session: requests.Session, trade: str) -> float:
    """The parked trade's notBefore (epoch seconds), once it is WAITING."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        request = session.get(trade, timeout=10).json()
        if request["status"] == "WAITING" and request.get("notBefore"):
            return datetime.fromisoformat(request["notBefore"]).timestamp()
        time.sleep(0.02)
    raise RuntimeError("the trade was not parked within 30 s")


def _trade_to_sync_seconds(session: requests.Session, api: str, account: str) -> float:
    """From an order's EXECUTED answer to the end of the sync it set off (its log's success)."""
    seen = {log["syncId"] for log in session.get(f"{account}/sync/logs", timeout=10).json()["items"]}
    accepted = session.post(f"{account}/orders", json=ORDER, timeout=10)
    session.get(f"{api}{accepted.headers['Location']}", params={"wait": 10}, timeout=20)
    executed = time.perf_counter()
    while time.perf_counter() - executed < 30:
        logs = session.get(f"{account}/sync/logs", timeout=10).json()["items"]
        if any(
            log["syncId"] not in seen and log["reason"] == "trade" and log["status"] == "success"
            for log in logs
        ):
            return time.perf_counter() - executed
        time.sleep(0.05)
    raise RuntimeError("no sync after a trade within 30 s")


def _wait_for(url: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in time")

"""Live pushes through the local stack: how long a settled trade's event takes to reach a
connected client as a frame, and the MetaApi calls the price pump makes per watched symbol."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import requests
from websockets.sync.client import connect

from infra.local.stack import free_port
from tests.bench.latency import ORDER, _demo_account, _percentiles, _start_local_stack

# How long the price pump is watched, and how long it is given to start.
PUMP_SECONDS = 30


def event_to_frame_latencies(count: int = 200) -> dict[str, float]:
    """From each trade's settlement (its `updatedAt` as the executor wrote it, which the table's
    stream turns into the event) to its `mt:trade` frame at a connected client, one trade after
    another."""
    websocket_port = free_port("127.0.0.1")
    api, simulator, process = _start_local_stack(websocket_port)
    try:
        session, account_id = _demo_account(api, simulator)
        token = str(session.headers["Authorization"]).removeprefix("Bearer ")
        samples = []
        with connect(f"ws://127.0.0.1:{websocket_port}/?token={token}", open_timeout=10) as client:
            for _ in range(count):
                accepted = session.post(
                    f"{api}/api/metatrader/accounts/{account_id}/orders", json=ORDER, timeout=10
                )
                trade_id = accepted.json()["id"]
                while True:
                    frame: dict[str, Any] = json.loads(client.recv(timeout=10))
                    if frame["type"] == "mt:trade" and frame["data"]["id"] == trade_id:
                        received = datetime.now(UTC)
                        break
                settled = datetime.fromisoformat(frame["data"]["updatedAt"])
                samples.append((received - settled).total_seconds())
    finally:
        process.terminate()
        process.wait(timeout=30)
    return _percentiles(samples)


def price_calls_per_minute() -> dict[str, float]:
    """MetaApi calls a minute while one connection watches one symbol on one account, and the
    `mt:price` frames it got, from the simulator's own count."""
    websocket_port = free_port("127.0.0.1")
    api, simulator, process = _start_local_stack(websocket_port)
    try:
        session, account_id = _demo_account(api, simulator)
        token = str(session.headers["Authorization"]).removeprefix("Bearer ")
        with connect(f"ws://127.0.0.1:{websocket_port}/?token={token}", open_timeout=10) as client:
            client.send(json.dumps({"action": "subscribe", "accountId": account_id, "symbols": ["BTCUSD"]}))
            before = requests.get(f"{simulator}/_sim/calls", timeout=10).json()
            started, prices = time.monotonic(), 0
            while (left := started + PUMP_SECONDS - time.monotonic()) > 0:
                try:
                    prices += json.loads(client.recv(timeout=left))["type"] == "mt:price"
                except TimeoutError:
                    break
            after = requests.get(f"{simulator}/_sim/calls", timeout=10).json()
            elapsed = time.monotonic() - started
            client.send(json.dumps({"action": "unsubscribe"}))
            time.sleep(3)  # the pump stops at its next tick
            stopped = requests.get(f"{simulator}/_sim/calls", timeout=10).json()
            time.sleep(3)
            still = requests.get(f"{simulator}/_sim/calls", timeout=10).json()
    finally:
        process.terminate()
        process.wait(timeout=30)

    def per_minute(endpoint: str) -> float:
        return float(after.get(endpoint, 0) - before.get(endpoint, 0)) * 60 / elapsed

    return {
        "price_calls": per_minute("current-price"),
        "position_calls": per_minute("positions"),
        "frames": prices * 60 / elapsed,
        "calls_after_stop": float(still.get("current-price", 0) - stopped.get("current-price", 0)),
    }

"""Risk through the local stack over HTTP: a preview, then the kill switch closing everything."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e


def test_a_preview_queues_nothing_and_a_halt_with_flatten_closes_everything_once(
    local_stack: RunningStack, demo: tuple[requests.Session, str, str]
) -> None:
    session, account, metaapi_id = demo
    pinned = requests.put(
        f"{local_stack.simulator_url}/_sim/prices/BTCUSD", json={"bid": 67000, "ask": 67010}, timeout=10
    )
    assert pinned.status_code == 200, pinned.text
    for volume in (0.01, 0.02):
        opened = requests.post(
            f"{local_stack.simulator_url}/_sim/accounts/{metaapi_id}/positions",
            json={"symbol": "BTCUSD", "type": "POSITION_TYPE_BUY", "volume": volume},
            timeout=10,
        )
        assert opened.status_code == 201, opened.text
    order = {
        "symbol": "BTCUSD",
        "actionType": "ORDER_TYPE_BUY",
        "stopLoss": 66010,  # 1,000 dollars below the ask: 1,000 a lot
        "sizing": {"mode": "risk_amount", "amount": 50},
    }

    preview = session.post(f"{account}/risk/preview", json=order, timeout=10)
    halted = session.post(f"{account}/risk/halt", json={"flatten": True, "reason": "e2e"}, timeout=10)
    flatten_id = halted.json()["flatten"]["id"]
    parent = session.get(f"{account}/trades/{flatten_id}", params={"wait": 10}, timeout=20)
    refused = session.post(f"{account}/orders", json=order, timeout=10)
    status = session.get(f"{account}/risk/status", timeout=10)
    resumed = session.post(f"{account}/risk/resume", timeout=10)
    sent = requests.get(f"{local_stack.simulator_url}/_sim/accounts/{metaapi_id}/trades", timeout=10).json()

    assert preview.status_code == 200, preview.text
    assert (preview.json()["volume"], preview.json()["lossAtStopLoss"], preview.json()["accepted"]) == (
        0.05,
        50,
        True,
    )
    assert halted.status_code == 200, halted.text
    assert parent.json()["status"] == "EXECUTED", parent.json()
    assert parent.json()["reason"] == "closed 2 of 2 positions"
    assert [entry["body"]["actionType"] for entry in sent] == ["POSITION_CLOSE_ID", "POSITION_CLOSE_ID"]
    assert (refused.status_code, refused.json()["code"]) == (409, "RISK_HALTED")
    assert (status.json()["halted"], status.json()["haltReason"], status.json()["openPositions"]) == (
        True,
        "e2e",
        0,
    )
    assert resumed.json()["halted"] is False

"""An account created through the API, all the way to its first trade, over HTTP: the local
stack's provisioning worker drives the real MetaApi SDK against the simulator."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e
ACCOUNTS = "/api/metatrader/accounts"


def _follow(session: requests.Session, url: str, until: set[str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        account: dict[str, Any] = session.get(url, timeout=10).json()
        if account["provisioningStatus"] in until:
            return account
        assert time.monotonic() < deadline, account
        time.sleep(0.5)


def test_an_account_created_with_its_credentials_reaches_ready_and_trades(local_stack: RunningStack) -> None:
    carol = local_stack.as_user("carol")

    added = carol.post(
        f"{local_stack.url}{ACCOUNTS}",
        json={
            "name": "Carol MT5",
            "platform": "mt5",
            "server": "SimBroker-Demo",
            "login": "88001234",
            "password": "carol-pass",
        },
        headers={"Idempotency-Key": "carol-adds-one"},
        timeout=10,
    )
    assert added.status_code == 202, added.text
    assert added.json()["provisioningStatus"] == "CREATING"
    account = _follow(carol, f"{local_stack.url}{added.headers['Location']}", {"READY", "FAILED"})
    assert account["provisioningStatus"] == "READY", account["provisioning"]

    test = carol.get(f"{local_stack.url}{ACCOUNTS}/{account['id']}/test", timeout=10).json()
    assert test["verdict"] == "connected", test

    order = carol.post(
        f"{local_stack.url}{ACCOUNTS}/{account['id']}/orders",
        json={"symbol": "BTCUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.01},
        timeout=10,
    )
    assert order.status_code == 202, order.text
    final = carol.get(f"{local_stack.url}{order.headers['Location']}", params={"wait": 10}, timeout=20).json()
    assert final["status"] == "EXECUTED", final

    position_id = final["broker"]["positionId"]
    closing = carol.delete(f"{local_stack.url}{ACCOUNTS}/{account['id']}/positions/{position_id}", timeout=10)
    closed = carol.get(f"{local_stack.url}{closing.headers['Location']}", params={"wait": 10}, timeout=20)
    assert closed.json()["status"] == "EXECUTED"
    removing = carol.delete(
        f"{local_stack.url}{ACCOUNTS}/{account['id']}", params={"fromMetaApi": "true"}, timeout=10
    )
    assert removing.status_code == 202, removing.text
    deadline = time.monotonic() + 30
    while carol.get(f"{local_stack.url}{ACCOUNTS}/{account['id']}", timeout=10).status_code != 404:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    remaining = requests.get(f"{local_stack.simulator_url}/_sim/accounts", timeout=10).json()
    assert account["metaapiAccountId"] not in {remote["id"] for remote in remaining}


def test_a_draft_is_answered_with_its_link_configured_there_and_readied(local_stack: RunningStack) -> None:
    dave = local_stack.as_user("dave")

    added = dave.post(
        f"{local_stack.url}{ACCOUNTS}",
        json={"draft": True, "name": "Dave MT4", "platform": "mt4", "server": "SimBroker-Demo"},
        timeout=20,
    )
    assert added.status_code == 202, added.text
    draft = added.json()
    assert draft["provisioningStatus"] == "AWAITING_CREDENTIALS", draft["provisioning"]
    # The trader opens the link and types the login and password on MetaApi's page.
    form = requests.get(draft["configurationLink"], timeout=10)
    assert 'name="password"' in form.text
    typed = requests.post(
        draft["configurationLink"], data={"login": "50001", "password": "dave-pass"}, timeout=10
    )
    assert typed.status_code == 200
    account = _follow(dave, f"{local_stack.url}{added.headers['Location']}", {"READY", "FAILED"})

    assert account["provisioningStatus"] == "READY", account["provisioning"]
    assert account["login"] == "50001"

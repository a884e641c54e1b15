"""Two traders, each with their own MetaApi token, through the local stack over HTTP."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from infra.local.stack import DEMO_USER, SIMULATED_PLATFORM_TOKEN
from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e
ACCOUNTS = "/api/metatrader/accounts"


def _create_metaapi_account(stack: RunningStack, token: str) -> str:
    """Create an account the way a MetaApi user does: POST, 202, then the same transaction id
    again after Retry-After, until it is created; then wait for it to connect."""
    headers = {"auth-token": token, "transaction-id": uuid.uuid4().hex}
    body = {
        "name": "Alice MT5",
        "server": "SimBroker-Demo",
        "login": "7001234",
        "password": "p4ss",
        "platform": "mt5",
        "magic": 0,
    }
    answer = requests.post(
        f"{stack.simulator_url}/users/current/accounts", json=body, headers=headers, timeout=10
    )
    assert answer.status_code == 202
    for _ in range(30):
        time.sleep(float(answer.headers["Retry-After"]))
        answer = requests.post(
            f"{stack.simulator_url}/users/current/accounts", json=body, headers=headers, timeout=10
        )
        if answer.status_code != 202:
            break
    assert answer.status_code == 201, answer.text
    account_id: str = answer.json()["id"]
    # MetaApi deploys a new account by itself: it trades once deployed and connected.
    for _ in range(60):
        remote = requests.get(
            f"{stack.simulator_url}/users/current/accounts/{account_id}", headers=headers, timeout=10
        ).json()
        if (remote["state"], remote["connectionStatus"]) == ("DEPLOYED", "CONNECTED"):
            return account_id
        time.sleep(0.2)
    raise AssertionError(f"the account did not connect: {remote}")


def test_each_trader_links_only_what_their_token_reads(local_stack: RunningStack) -> None:
    alice, bob = local_stack.as_user("alice"), local_stack.as_user("bob")
    metaapi_id = _create_metaapi_account(local_stack, "alice-metaapi-token")
    for session, token in ((alice, "alice-metaapi-token"), (bob, "bob-metaapi-token")):
        stored = session.put(
            f"{local_stack.url}/api/metatrader/settings/metaapi-token", json={"token": token}, timeout=10
        )
        assert stored.json() == {"metaapiTokenSet": True}

    bobs_try = bob.post(f"{local_stack.url}{ACCOUNTS}", json={"metaapiAccountId": metaapi_id}, timeout=10)
    linked = alice.post(f"{local_stack.url}{ACCOUNTS}", json={"metaapiAccountId": metaapi_id}, timeout=10)

    assert bobs_try.status_code == 404
    assert linked.status_code == 201, linked.text
    assert linked.headers["Location"] == f"{ACCOUNTS}/{linked.json()['id']}"
    assert bob.get(f"{local_stack.url}{ACCOUNTS}", timeout=10).json()["items"] == []

    # A position opened at the broker shows up live, and then from the store.
    account = f"{local_stack.url}{ACCOUNTS}/{linked.json()['id']}"
    opened = requests.post(
        f"{local_stack.simulator_url}/_sim/accounts/{metaapi_id}/positions",
        json={"symbol": "EURUSD", "type": "POSITION_TYPE_BUY", "volume": 0.25},
        timeout=10,
    ).json()
    live = alice.get(f"{account}/positions", params={"live": "true"}, timeout=10)
    stored = alice.get(f"{account}/positions", timeout=10)

    assert live.status_code == 200
    assert [(p["id"], p["volume"]) for p in live.json()] == [(opened["id"], 0.25)]
    assert stored.json() == live.json()
    assert bob.get(f"{account}/positions", timeout=10).status_code == 404


def test_the_demo_user_can_link_the_demo_account(local_stack: RunningStack) -> None:
    listed = requests.get(
        f"{local_stack.simulator_url}/users/current/accounts",
        headers={"auth-token": SIMULATED_PLATFORM_TOKEN},
        timeout=10,
    ).json()
    demo = next(account for account in listed if (account.get("metadata") or {}).get("userId") == DEMO_USER)

    linked = local_stack.as_user(DEMO_USER).post(
        f"{local_stack.url}{ACCOUNTS}", json={"metaapiAccountId": demo["_id"]}, timeout=10
    )
    quote = local_stack.as_user(DEMO_USER).get(
        f"{local_stack.url}{ACCOUNTS}/{linked.json()['id']}/quotes/EURUSD", timeout=10
    )

    assert linked.status_code == 201
    assert linked.json()["balance"] > 0
    assert quote.status_code == 200
    assert quote.json()["ask"] > quote.json()["bid"]

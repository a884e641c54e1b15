"""Single-operator mode: METAAPI_TOKEN and MT_ACCOUNT_ID, as the original bot's .env has them.

The stack then talks to "the real MetaApi"; here that is a simulator this test starts itself and
points MetaApi's URLs at, so the stack starts none of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.metaapi_sim import MetaApiSimulator
from infra.local.stack import OPERATOR_USER, serve_in_thread
from tests.e2e.conftest import RunningStack, start_local_stack

pytestmark = pytest.mark.e2e
OPERATOR_TOKEN = "the-operators-metaapi-token"


@pytest.fixture(scope="module")
def operator_stack() -> Iterator[tuple[RunningStack, str, str]]:
    metaapi = MetaApiSimulator(seed=11)
    bot_account = metaapi.create_account(OPERATOR_TOKEN, name="Bot account")
    other_account = metaapi.create_account(OPERATOR_TOKEN, name="Second account")
    server = serve_in_thread(metaapi, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_port}"
    stack = start_local_stack(
        {
            "METAAPI_TOKEN": OPERATOR_TOKEN,
            "MT_ACCOUNT_ID": bot_account,
            "METAAPI_PROVISIONING_URL": url,
            "METAAPI_CLIENT_URL_TEMPLATE": url,
        }
    )
    yield stack, bot_account, other_account
    stack.stop()
    server.shutdown()
    server.server_close()


def test_the_configured_account_is_linked_to_the_operator(
    operator_stack: tuple[RunningStack, str, str],
) -> None:
    stack, bot_account, _ = operator_stack

    accounts = (
        stack.as_user(OPERATOR_USER).get(f"{stack.url}/api/metatrader/accounts", timeout=10).json()["items"]
    )

    assert [account["metaapiAccountId"] for account in accounts] == [bot_account]
    assert accounts[0]["name"] == "Bot account"
    assert accounts[0]["balance"] == 10000


def test_the_operator_may_link_more_and_others_may_not(operator_stack: tuple[RunningStack, str, str]) -> None:
    stack, _, other_account = operator_stack
    body = {"metaapiAccountId": other_account}

    stranger = stack.as_user("stranger").post(f"{stack.url}/api/metatrader/accounts", json=body, timeout=10)
    operator = stack.as_user(OPERATOR_USER).post(
        f"{stack.url}/api/metatrader/accounts", json=body, timeout=10
    )

    assert stranger.status_code == 404
    assert operator.status_code == 201

"""Webhook signals end to end in-process: management routes, the intake function, the executor
resolving each account's part against the simulator."""

from __future__ import annotations

from typing import Any

from infra.local.queues import QueuePoller
from tests.integration.conftest import Api, Simulator, post_alert

WEBHOOKS = "/api/metatrader/webhooks"
ACCOUNTS = "/api/metatrader/accounts"


def _drain(poller: QueuePoller, rounds: int = 40) -> None:
    for _ in range(rounds):
        if poller.poll_once() == 0:
            return


def _link(api: Api, simulator: Simulator, user: str = "alice", **fields: Any) -> tuple[str, str]:
    metaapi_id = simulator.account(metadata={"userId": user}, **fields)
    answer = api.call("POST", ACCOUNTS, user=user, body={"metaapiAccountId": metaapi_id})
    assert answer.status == 201, answer.body
    return metaapi_id, answer.body["id"]


def _webhook(api: Api, account_ids: list[str], user: str = "alice", **settings: Any) -> dict[str, Any]:
    answer = api.call("POST", WEBHOOKS, user=user, body={"name": "tv", "accountIds": account_ids, **settings})
    assert answer.status == 201, answer.body
    return answer.body


def test_a_json_alert_becomes_a_position(
    api: Api, simulator: Simulator, executor_poller: QueuePoller
) -> None:
    metaapi_id, account_id = _link(api, simulator)
    hook = _webhook(api, [account_id])
    answer = post_alert(
        hook["id"], f'{{"action": "buy", "symbol": "EURUSD", "volume": 0.2, "secret": "{hook["secret"]}"}}'
    )
    assert answer.status == 202, answer.body
    _drain(executor_poller)
    positions = simulator.sim_positions(metaapi_id)
    assert [(p["symbol"], p["volume"]) for p in positions] == [("EURUSD", 0.2)]
    signal = api.call("GET", f"{WEBHOOKS}/{hook['id']}/signals/{answer.body['signalId']}", user="alice").body
    assert signal["targets"][0]["status"] == "EXECUTED", signal

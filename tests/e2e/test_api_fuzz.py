"""schemathesis over every operation of the OpenAPI document the local stack serves, as a new user
would run it: generated valid and invalid requests, undeclared content types and odd bytes, with
the caller's own account in every account route. None may answer a server error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from infra.local.stack import DEMO_USER, SIMULATED_PLATFORM_TOKEN
from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e
SEED = 7
EXAMPLES_PER_OPERATION = 25
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


def _linked_demo_account(stack: RunningStack) -> str:
    listed = requests.get(
        f"{stack.simulator_url}/users/current/accounts",
        headers={"auth-token": SIMULATED_PLATFORM_TOKEN},
        timeout=10,
    ).json()
    metaapi_id = next(a["_id"] for a in listed if (a.get("metadata") or {}).get("userId") == DEMO_USER)
    linked = stack.as_user(DEMO_USER).post(
        f"{stack.url}/api/metatrader/accounts", json={"metaapiAccountId": metaapi_id}, timeout=10
    )
    assert linked.status_code == 201, linked.text
    account_id: str = linked.json()["id"]
    return account_id


def test_no_generated_request_gets_a_server_error(local_stack: RunningStack, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'[parameters]\n"path.account_id" = "{_linked_demo_account(local_stack)}"\n')

    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(config),
            "run",
            f"{local_stack.url}/api/openapi.json",
            "--url",
            local_stack.url,
            "--checks",
            "not_a_server_error",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            str(SEED),
            "--header",
            f"Authorization: Bearer {local_stack.token(DEMO_USER)}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    document = requests.get(f"{local_stack.url}/api/openapi.json", timeout=10).json()
    operations = sum(len(methods) for methods in document["paths"].values())
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert f"Tested: {operations}" in run.stdout  # every operation was exercised

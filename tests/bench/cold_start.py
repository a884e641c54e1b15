"""The first request a new Lambda container serves: the handler's import plus one handled request,
in a fresh interpreter.

The state the request needs (a linked account; for the executor, an accepted order waiting in the
order queue) is made once, through the real API, in this process (moto in-process, the MetaApi
simulator on a local port). Each sample then runs in a fresh interpreter that copies that state
into its own moto and times only the handler: its import, then one request. moto loads boto3
before the clock starts, so boto3's own import (see `import boto3` in the import figures) is not
in these figures; creating the clients and their calls are. No module of the functions or of the
core layer is loaded before the clock starts: the child checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import requests
from moto import mock_aws

from infra.local.resources import LocalResources, create_resources, queue_subscriptions, resources_of
from infra.synth import synthesized_template
from tests.integration.conftest import EXECUTOR_HANDLER, Api

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

ROOT = Path(__file__).resolve().parents[2]
RUNS = 7
KINDS = ("api", "executor")
ACCOUNTS = "/api/metatrader/accounts"
MARKET_ORDER = {"symbol": "BTCUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.01, "stopLoss": 60000}
# Loaded before the clock starts would hide part of the cold start.
_OWN_CODE = ("functions", "mtcore")


def first_request_seconds(kind: str, runs: int = RUNS) -> list[float]:
    """Import plus first request of the API (`GET /accounts`, signed in) or the executor (one SQS
    record: an accepted market order, executed against the simulator), each sample in a fresh
    interpreter."""
    from tests.bench.calls import _environment

    if kind not in KINDS:
        raise ValueError(f"kind is one of {KINDS}, not {kind!r}")
    with _environment() as (api, _, metaapi_id, resources), tempfile.TemporaryDirectory() as scratch:
        account_id = api.call("POST", ACCOUNTS, user="alice", body={"metaapiAccountId": metaapi_id}).body[
            "id"
        ]
        state: dict[str, Any] = {"kind": kind, "message": None}
        if kind == "executor":
            state["message"] = _accepted_order(api, account_id, resources)
        state.update(_dumped(resources, boto3.client("dynamodb"), boto3.client("secretsmanager")))
        state_file = Path(scratch) / "state.json"
        state_file.write_text(json.dumps(state))
        # The simulator and the settings the API was given stay where they are: the child reads them.
        child = [sys.executable, "-m", "tests.bench.cold_start", str(state_file)]
        # The first run writes the bytecode of what the request loads and is not counted.
        env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
        samples = []
        for run in range(runs + 1):
            out = subprocess.run(child, cwd=ROOT, env=env, capture_output=True, text=True)
            if out.returncode != 0:
                raise RuntimeError(f"first request failed:\n{out.stderr}")
            if kind == "executor":
                assert len(_simulator_trades(metaapi_id)) == run + 1, "the order was not sent to MetaApi"
            if run:
                # The function's own log lines come first; the figure is the last line.
                samples.append(float(out.stdout.strip().splitlines()[-1]))
        return samples


def _simulator_trades(metaapi_id: str) -> list[Any]:
    url = os.environ["METAAPI_CLIENT_URL_TEMPLATE"]
    answer = requests.get(f"{url}/_sim/accounts/{metaapi_id}/trades", timeout=5)
    answer.raise_for_status()
    trades: list[Any] = answer.json()
    return trades


def _accepted_order(api: Api, account_id: str, resources: LocalResources) -> dict[str, Any]:
    """A market order accepted by the API: its message, taken off the order queue."""
    answer = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=MARKET_ORDER)
    assert answer.status == 202, answer.body
    subscription = _executor_queue(resources)
    received = boto3.client("sqs").receive_message(
        QueueUrl=subscription.queue_url, MaxNumberOfMessages=1, MessageSystemAttributeNames=["All"]
    )
    (message,) = received["Messages"]
    return {"body": message["Body"], "group": message["Attributes"]["MessageGroupId"]}


def _executor_queue(resources: LocalResources) -> Any:
    return next(
        s for s in queue_subscriptions(synthesized_template(), resources) if s.handler == EXECUTOR_HANDLER
    )


def _dumped(
    resources: LocalResources, dynamodb: DynamoDBClient, secretsmanager: SecretsManagerClient
) -> dict[str, Any]:
    tables: dict[str, list[Any]] = {}
    for logical_id in resources_of(synthesized_template(), "AWS::DynamoDB::GlobalTable"):
        name = resources.names[logical_id]
        pages = dynamodb.get_paginator("scan").paginate(TableName=name)
        tables[name] = [item for page in pages for item in page["Items"]]
    secrets = {
        entry["Name"]: secretsmanager.get_secret_value(SecretId=entry["Name"])["SecretString"]
        for entry in secretsmanager.list_secrets()["SecretList"]
    }
    return {"tables": tables, "secrets": secrets}


def _restore(state: dict[str, Any], dynamodb: DynamoDBClient, secretsmanager: SecretsManagerClient) -> None:
    for table, items in state["tables"].items():
        for item in items:
            dynamodb.put_item(TableName=table, Item=item)
    for name, value in state["secrets"].items():
        secretsmanager.put_secret_value(SecretId=name, SecretString=value)


def _one_first_request(state: dict[str, Any]) -> float:
    """In a fresh interpreter: the state copied into moto, then the handler imported and called once."""
    from infra.local.queues import QueuePoller, load_handler

    with mock_aws():
        dynamodb, secretsmanager, sqs = (
            boto3.client("dynamodb"),
            boto3.client("secretsmanager"),
            boto3.client("sqs"),
        )
        resources = create_resources(
            synthesized_template(),
            dynamodb=dynamodb,
            secretsmanager=secretsmanager,
            sqs=sqs,
            events=boto3.client("events"),
        )
        _restore(state, dynamodb, secretsmanager)
        preloaded = sorted(name for name in sys.modules if name.split(".")[0] in _OWN_CODE)
        assert not preloaded, f"loaded before the clock starts: {preloaded}"
        if state["kind"] == "api":
            started = time.perf_counter()
            answer = Api().call("GET", ACCOUNTS, user="alice")
            elapsed = time.perf_counter() - started
            assert answer.status == 200, answer.body
            assert answer.body["items"], answer.body
            return elapsed
        subscription = _executor_queue(resources)
        message = state["message"]
        sqs.send_message(
            QueueUrl=subscription.queue_url,
            MessageBody=message["body"],
            MessageGroupId=message["group"],
            MessageDeduplicationId="first-request",
        )
        timings: list[float] = []

        def first_request(event: dict[str, Any], context: Any) -> Any:
            started = time.perf_counter()
            result = load_handler(EXECUTOR_HANDLER)(event, context)
            timings.append(time.perf_counter() - started)
            assert not result["batchItemFailures"], result
            return result

        assert QueuePoller(sqs, subscription, first_request).poll_once() == 1
        return timings[0]


if __name__ == "__main__":
    print(_one_first_request(json.loads(Path(sys.argv[1]).read_text())))

"""Every outside call is timed by our own hooks (the X-Ray SDK is off the hot path): a latency
metric per service and a debug line naming the operation and its HTTP status."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from mtcore.aws import dynamodb_client
from mtcore.observability import logger, metrics
from tests.conftest import LogCapture
from tests.integration.conftest import Api

ACCOUNTS = "/api/metatrader/accounts"


@pytest.fixture
def debug_logs(logs: LogCapture) -> Iterator[LogCapture]:
    level = logger.log_level
    logger.setLevel("DEBUG")
    yield logs
    logger.setLevel(level)


def _calls(logs: LogCapture) -> list[tuple[str, object]]:
    return [(str(r["call"]), r["status"]) for r in logs.records() if r.get("message") == "outside call"]


def test_a_live_read_logs_its_metaapi_and_dynamodb_calls_with_their_status(
    api: Api, linked: tuple[str, str], debug_logs: LogCapture
) -> None:
    metaapi_id, account_id = linked

    answer = api.call("GET", f"{ACCOUNTS}/{account_id}/positions", user="alice", query={"live": "true"})

    assert answer.status == 200, answer.body
    calls = _calls(debug_logs)
    assert (f"MetaApi.GET /users/current/accounts/{metaapi_id}/positions", 200) in calls
    assert ("DynamoDB.GetItem", 200) in calls
    timed = [r for r in debug_logs.records() if r.get("message") == "outside call"]
    assert all(isinstance(r["ms"], float) and r["ms"] >= 0 for r in timed)


def test_a_refused_aws_call_is_timed_too_and_adds_a_latency_value(api: Api, debug_logs: LogCapture) -> None:
    metrics.clear_metrics()
    client = dynamodb_client()
    client.list_tables()

    with pytest.raises(ClientError):
        client.describe_table(TableName="no-such-table")

    values = metrics.metric_set["DynamoDBCallLatency"]["Value"]
    assert len(values) == 2
    assert metrics.metric_set["DynamoDBCallLatency"]["Unit"] == "Milliseconds"
    assert _calls(debug_logs) == [("DynamoDB.ListTables", 200), ("DynamoDB.DescribeTable", 400)]
    metrics.clear_metrics()

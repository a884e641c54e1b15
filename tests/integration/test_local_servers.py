"""The local stack's servers as AWS's endpoints behave: connections kept open between requests
(with each request's body read to its end, whatever the application read of it), and moto's
DynamoDB queries, answered from one partition, the same as moto answers them."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.stack import serve_in_thread

HOST = "127.0.0.1"


def _echo_length(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers the path; reads none of the body, as moto does for requests it refuses early."""
    body = environ["PATH_INFO"].encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def server() -> Iterator[int]:
    served = serve_in_thread(_echo_length, HOST, 0)
    yield served.server_port
    served.shutdown()


def test_one_connection_carries_many_requests_whatever_the_application_read(server: int) -> None:
    connection = http.client.HTTPConnection(HOST, server, timeout=5)
    connection.connect()
    local_port = connection.sock.getsockname()[1]

    answers = []
    for number in range(3):
        connection.request("POST", f"/call-{number}", body=b"x" * (number * 1000))
        answer = connection.getresponse()
        answers.append((answer.status, answer.read(), answer.getheader("Connection")))

    assert answers == [(200, f"/call-{n}".encode(), None) for n in range(3)]
    assert connection.sock.getsockname()[1] == local_port, "the same connection throughout"


def test_a_chunked_request_closes_its_connection(server: int) -> None:
    connection = http.client.HTTPConnection(HOST, server, timeout=5)
    connection.request("POST", "/chunked", body=iter([b"a", b"b"]), encode_chunked=True)
    answer = connection.getresponse()

    assert (answer.status, answer.read(), answer.getheader("Connection")) == (200, b"/chunked", "close")


def _answers(mode: str) -> Any:
    run = subprocess.run(
        [sys.executable, "-m", "tests.integration.moto_queries", mode],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(run.stdout)


def test_queries_answered_from_one_partition_match_moto() -> None:
    fast, moto = _answers("fast"), _answers("moto")

    assert fast == moto
    everything, positions, between, backwards, *_ = fast
    assert len(everything[0][2]) == 21, "one partition only"
    assert [item["sk"]["S"] for item in positions[0][2]][:2] == ["POS#00", "POS#01"]
    assert [page[0] for page in between] == [4, 4, 1]
    assert backwards[0][2][0]["sk"]["S"] == "TRADE#06"

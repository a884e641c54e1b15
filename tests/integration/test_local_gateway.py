"""The local gateway serves requests side by side, as Lambda runs them in several containers, and
each resolves with its own event even though the handler module is shared."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from infra.local.containers import resolve_per_thread
from infra.local.gateway import LambdaContext, LocalGateway
from infra.local.stack import serve_in_thread
from infra.local.tokens import DevTokens

WAIT_S = 10


class Handlers:
    """An API whose `/api/slow` holds its container until released, and a webhook intake."""

    def __init__(self) -> None:
        self.slow_started = threading.Event()
        self.release = threading.Event()

    def api(self, event: dict[str, Any], _: Any) -> dict[str, Any]:
        if event["path"] == "/api/slow":
            self.slow_started.set()
            self.release.wait(WAIT_S)
        return {"statusCode": 200, "body": json.dumps({"path": event["path"]})}

    def intake(self, event: dict[str, Any], _: Any) -> dict[str, Any]:
        return {"statusCode": 202, "body": "{}"}


@pytest.fixture
def gateway() -> Iterator[tuple[str, Handlers, str]]:
    handlers, tokens = Handlers(), DevTokens()
    app = LocalGateway(
        handlers.api,
        intake=handlers.intake,
        tokens=tokens,
        stage="local",
        cors_allow_origins=["*"],
        openapi=lambda: "{}",
        containers=2,
    )
    server = serve_in_thread(app, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.server_port}", handlers, tokens.issue("alice")
    handlers.release.set()
    server.shutdown()
    server.server_close()


def test_a_request_is_answered_while_another_still_waits(gateway: tuple[str, Handlers, str]) -> None:
    url, handlers, token = gateway
    headers = {"Authorization": f"Bearer {token}"}
    slow: list[requests.Response] = []
    waiting = threading.Thread(
        target=lambda: slow.append(requests.get(f"{url}/api/slow", headers=headers, timeout=WAIT_S * 2))
    )
    waiting.start()
    assert handlers.slow_started.wait(WAIT_S)

    fast = requests.get(f"{url}/api/metatrader/accounts", headers=headers, timeout=WAIT_S)

    assert fast.json() == {"path": "/api/metatrader/accounts"}
    assert not slow, "the slow request was still in its container"
    handlers.release.set()
    waiting.join(WAIT_S)
    assert slow[0].json() == {"path": "/api/slow"}


def test_each_thread_resolves_its_own_event() -> None:
    """Powertools keeps the event being resolved on its router class: without a resolver per
    thread, a request resolved meanwhile would take the waiting one's place."""
    app = APIGatewayRestResolver()
    slow_started, release = threading.Event(), threading.Event()

    @app.get("/slow")
    def slow_route() -> dict[str, Any]:
        slow_started.set()
        release.wait(WAIT_S)
        return {"path": app.current_event.path, "sub": app.current_event.request_context.request_id}

    @app.get("/fast")
    def fast_route() -> dict[str, Any]:
        return {"path": app.current_event.path, "sub": app.current_event.request_context.request_id}

    resolve_per_thread(app)
    answers: dict[str, Any] = {}

    def call(path: str) -> None:
        event = {
            "resource": path,
            "path": path,
            "httpMethod": "GET",
            "headers": {},
            "requestContext": {"requestId": path.strip("/"), "stage": "local", "path": path},
        }
        context: Any = LambdaContext("api", 0.0, path)
        answers[path] = json.loads(app.resolve(event, context)["body"])

    waiting = threading.Thread(target=call, args=("/slow",))
    waiting.start()
    assert slow_started.wait(WAIT_S)
    call("/fast")
    release.set()
    waiting.join(WAIT_S)

    assert answers == {
        "/fast": {"path": "/fast", "sub": "fast"},
        "/slow": {"path": "/slow", "sub": "slow"},
    }

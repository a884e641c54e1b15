"""The local stack started as `make run` starts it, as a subprocess on free ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from infra.local.stack import DEMO_USER, SIMULATED_PLATFORM_TOKEN, free_port

ACCOUNTS = "/api/metatrader/accounts"
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 180  # the first start after a change to infra/ synthesizes the template


@dataclass
class RunningStack:
    url: str
    simulator_url: str
    process: subprocess.Popen[str]
    session: requests.Session
    websocket_url: str = ""
    telegram_url: str = ""
    # What the stack printed: read as it comes, or a full pipe would stall the stack mid-request.
    output: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    def read_output(self) -> None:
        def drain() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self.output.append(line)

        self._reader = threading.Thread(target=drain, daemon=True)
        self._reader.start()

    def as_user(self, user_id: str) -> requests.Session:
        """A client signed in as this dev user."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.token(user_id)}"
        return session

    def token(self, user_id: str) -> str:
        answer = self.session.post(f"{self.url}/api/dev/token", json={"userId": user_id}, timeout=10)
        answer.raise_for_status()
        token: str = answer.json()["token"]
        return token

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        if self._reader is not None:
            self._reader.join(timeout=10)
        return self.process.returncode, "".join(self.output)


def start_local_stack(extra_env: dict[str, str] | None = None) -> RunningStack:
    """`python -m infra.local` on free ports; returns once /api/health answers."""
    api_port, simulator_port, websocket_port, telegram_port = (free_port("127.0.0.1") for _ in range(4))
    env = {**os.environ, "CORS_ALLOW_ORIGINS": "http://localhost:5173"}
    # The simulator, not a MetaApi account a developer's .env may name.
    env |= {"METAAPI_TOKEN": "", "MT_ACCOUNT_ID": "", "TELEGRAM_BOT_TOKEN": "", **(extra_env or {})}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "infra.local",
            "--api-port",
            str(api_port),
            "--simulator-port",
            str(simulator_port),
            "--websocket-port",
            str(websocket_port),
            "--telegram-port",
            str(telegram_port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack = RunningStack(
        f"http://127.0.0.1:{api_port}",
        f"http://127.0.0.1:{simulator_port}",
        process,
        requests.Session(),
        websocket_url=f"ws://127.0.0.1:{websocket_port}",
        telegram_url=f"http://127.0.0.1:{telegram_port}",
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            pytest.fail(
                f"the local stack exited at start:\n{process.stdout.read() if process.stdout else ''}"
            )
        try:
            if stack.session.get(f"{stack.url}/api/health", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the local stack did not answer /api/health in time")
        time.sleep(0.3)
    stack.read_output()
    return stack


@pytest.fixture(scope="module")
def local_stack() -> Iterator[RunningStack]:
    stack = start_local_stack()
    yield stack
    if stack.process.poll() is None:
        stack.process.kill()
        stack.process.wait(timeout=10)


@pytest.fixture(scope="module")
def demo(local_stack: RunningStack) -> tuple[requests.Session, str, str]:
    """The demo user with the demo account linked: their session, the account's URL, its MetaApi id."""
    listed = requests.get(
        f"{local_stack.simulator_url}/users/current/accounts",
        headers={"auth-token": SIMULATED_PLATFORM_TOKEN},
        timeout=10,
    ).json()
    metaapi_id = next(a["_id"] for a in listed if (a.get("metadata") or {}).get("userId") == DEMO_USER)
    session = local_stack.as_user(DEMO_USER)
    linked = session.post(f"{local_stack.url}{ACCOUNTS}", json={"metaapiAccountId": metaapi_id}, timeout=10)
    assert linked.status_code == 201, linked.text
    return session, f"{local_stack.url}{ACCOUNTS}/{linked.json()['id']}", metaapi_id

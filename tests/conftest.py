"""Settings every test tier shares: no real AWS, no X-Ray, no CloudWatch metrics."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from tests.containers import new_container

# Throwaway credentials and region before anything creates a boto3 client: tests never reach AWS.
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "mt-backend",
    }
)


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Every test starts in a new container."""
    new_container()


class LogCapture:
    """The JSON lines the functions' Powertools logger wrote during a test."""

    def __init__(self) -> None:
        import io

        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict[str, object]]:
        import json

        return [json.loads(line) for line in self.text.splitlines() if line.startswith("{")]


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    from mtcore.observability import logger

    capture = LogCapture()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(capture.stream)
    yield capture
    handler.setStream(previous)

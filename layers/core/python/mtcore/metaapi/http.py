"""HTTP for MetaApi: one pooled connection manager per container, timeouts bounded by a deadline."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

import urllib3

CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 10.0


@lru_cache(maxsize=1)
def http_pool() -> urllib3.PoolManager:
    # No urllib3 retries: retrying is decided per call (never for trades).
    return urllib3.PoolManager(
        num_pools=8, maxsize=10, retries=False, timeout=urllib3.Timeout(CONNECT_TIMEOUT_S)
    )


@dataclass
class Deadline:
    """The time a whole logical call (all its retries) must end by."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    _ends_at: float = field(init=False)

    def __post_init__(self) -> None:
        self._ends_at = self.clock() + self.seconds

    def remaining(self) -> float:
        return self._ends_at - self.clock()


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: Any
    retry_after: str | None


def decode_json(data: bytes) -> Any:
    if not data:
        return None
    try:
        return json.loads(data, parse_float=Decimal)
    except ValueError:
        return None


def encode_json(payload: Any) -> bytes:
    return json.dumps(payload, default=_json_default, separators=(",", ":")).encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Exact decimal text as a JSON number (MetaApi reads numbers, never strings, here).
        return float(value) if value != value.to_integral_value() else int(value)
    raise TypeError(f"cannot encode {type(value).__name__}")

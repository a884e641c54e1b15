"""Faults the admin API arms on an account; each matching request consumes one."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from infra.local.metaapi_sim.errors import ApiError, invalid
from infra.local.metaapi_sim.wire import iso

CLIENT_READS = frozenset(
    {
        "positions",
        "orders",
        "account-information",
        "history-deals",
        "history-orders",
        "symbols",
        "specification",
        "current-price",
        "server-time",
        "calculate-margin",
    }
)
ENDPOINTS = CLIENT_READS | {"trade", "provisioning"}
TRADE_ONLY_KINDS = frozenset(
    {"requote", "disconnect_after_execute", "execute_late", "market_closed", "invalid_stops"}
)
# Which endpoints each kind can be armed on: a requote on a read would mean nothing.
KIND_ENDPOINTS: dict[str, frozenset[str]] = {
    "http_429": ENDPOINTS,
    "http_500": ENDPOINTS,
    "timeout": ENDPOINTS,
    "not_connected": CLIENT_READS | {"trade"},
    "empty_positions": frozenset({"positions"}),
    "malformed": CLIENT_READS | {"trade"},
    **dict.fromkeys(TRADE_ONLY_KINDS, frozenset({"trade"})),
}


@dataclass
class Fault:
    endpoint: str
    kind: str
    count: int
    retry_after_seconds: int
    delay_seconds: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "kind": self.kind,
            "count": self.count,
            "retryAfterSeconds": self.retry_after_seconds,
            "delaySeconds": self.delay_seconds,
        }


def _whole(body: dict[str, Any], name: str, default: int, minimum: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise invalid(f"must be an integer >= {minimum}", parameter=name, value=value)
    return value


def parse_fault(body: dict[str, Any]) -> Fault:
    endpoint, kind = body.get("endpoint"), body.get("kind")
    if endpoint not in ENDPOINTS:
        raise invalid(f"must be one of {sorted(ENDPOINTS)}", parameter="endpoint", value=endpoint)
    if not isinstance(kind, str) or kind not in KIND_ENDPOINTS:
        raise invalid(f"must be one of {sorted(KIND_ENDPOINTS)}", parameter="kind", value=kind)
    if endpoint not in KIND_ENDPOINTS[kind]:
        raise invalid(
            f"{kind} applies to {sorted(KIND_ENDPOINTS[kind])} only", parameter="endpoint", value=endpoint
        )
    delay = body.get("delaySeconds", 2)
    if isinstance(delay, bool) or not isinstance(delay, int | Decimal) or delay < 0:
        raise invalid("must be a number >= 0", parameter="delaySeconds", value=delay)
    return Fault(
        endpoint=endpoint,
        kind=kind,
        count=_whole(body, "count", 1, 1),
        retry_after_seconds=_whole(body, "retryAfterSeconds", 1, 0),
        delay_seconds=Decimal(delay),
    )


class FaultBook:
    """An account's armed faults, first armed first used. Callers hold the simulator lock."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def arm(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def take(self, endpoint: str) -> Fault | None:
        for fault in self._faults:
            if fault.endpoint == endpoint:
                fault.count -= 1
                if fault.count == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def armed(self, endpoint: str, kind: str) -> bool:
        return any(f.endpoint == endpoint and f.kind == kind for f in self._faults)


def rate_limited(fault: Fault, now: float) -> ApiError:
    return ApiError(
        429,
        "The API allows 60 requests per 1 minute(s) for your user; please retry later",
        metadata={
            "periodInMinutes": 1,
            "maxRequestsForPeriod": 60,
            "type": "LIMIT_REQUEST_RATE_PER_USER",
            "recommendedRetryTime": iso(now + fault.retry_after_seconds),
        },
        headers={"Retry-After": str(fault.retry_after_seconds)},
    )

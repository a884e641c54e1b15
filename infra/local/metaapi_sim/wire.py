"""What travels on the wire: JSON with exact decimals in and floats out, ISO and broker times."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from infra.local.metaapi_sim.errors import ApiError, invalid

# A fixed EET offset with no daylight saving, so trading sessions never shift with the calendar.
BROKER_UTC_OFFSET = timedelta(hours=2)
CENT = Decimal("0.01")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def parse_json(data: bytes) -> Any:
    """Numbers with a fraction become Decimal, so 0.1 lot stays exactly 0.1."""
    try:
        return json.loads(data, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, f"Request body is not valid JSON: {error}") from error


def parse_object(data: bytes) -> dict[str, Any]:
    body = parse_json(data) if data.strip() else None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return body


def positive(body: dict[str, Any], name: str) -> Decimal:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or value <= 0:
        raise invalid("must be a positive number", parameter=name, value=value)
    return Decimal(value)


def _encode(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(payload: Any) -> str:
    return json.dumps(payload, default=_encode)


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def broker_datetime(timestamp: float) -> datetime:
    return utc(timestamp) + BROKER_UTC_OFFSET


def broker_day_end(timestamp: float) -> float:
    """The broker's next midnight: when the trading day `timestamp` falls in ends."""
    day = broker_datetime(timestamp).date() + timedelta(days=1)
    return (datetime(day.year, day.month, day.day, tzinfo=UTC) - BROKER_UTC_OFFSET).timestamp()


def iso(timestamp: float) -> str:
    return utc(timestamp).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def broker_time(timestamp: float) -> str:
    return broker_datetime(timestamp).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def parse_iso(text: str) -> float:
    """Naive times count as UTC. Raises ValueError for anything else than an ISO-8601 time."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()

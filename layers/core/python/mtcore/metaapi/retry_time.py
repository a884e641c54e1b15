"""When MetaApi says to come back: `metadata.recommendedRetryTime` (in any of its three metadata
shapes) and the `Retry-After` header (seconds or an HTTP date)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any


def _parse_instant(value: str) -> datetime | None:
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _from_metadata(body: Any, now: datetime) -> float | None:
    metadata = body.get("metadata") if isinstance(body, dict) else None
    recommended = metadata.get("recommendedRetryTime") if isinstance(metadata, dict) else None
    if isinstance(recommended, str) and (instant := _parse_instant(recommended)):
        return max(0.0, (instant - now).total_seconds())
    return None


def _from_header(header: str | None, now: datetime) -> float | None:
    if not header:
        return None
    try:
        return max(0.0, float(header.strip()))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(header.strip()) - now).total_seconds())
    except (TypeError, ValueError):
        return None


def retry_after_seconds(body: Any, retry_after_header: str | None, *, now: datetime) -> float | None:
    """Seconds to wait (never negative), or None when MetaApi gave no hint. With both hints, the
    later one: an absolute time read with a skewed clock must not make us come back early."""
    hints = [
        hint
        for hint in (_from_metadata(body, now), _from_header(retry_after_header, now))
        if hint is not None
    ]
    return max(hints) if hints else None

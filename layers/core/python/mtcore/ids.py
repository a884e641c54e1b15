"""ULIDs: unique, time-ordered ids (sort order = creation order), 26 Crockford base32 characters."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_ulid(now_ms: int | None = None) -> str:
    value = ((time.time_ns() // 1_000_000 if now_ms is None else now_ms) << 80) | secrets.randbits(80)
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))


def ulid_floor(at_ms: int) -> str:
    """The smallest ULID of that millisecond: ids at or after it sort at or after it."""
    value = at_ms << 80
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))

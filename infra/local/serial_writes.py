"""DynamoDB runs each conditional write and each transaction as one serializable step; moto checks
a condition and then writes without a lock, so two threads can both pass one condition. The local
stack and the tests run moto with its item writes serialized, as the service behaves."""

from __future__ import annotations

import functools
import threading
from typing import Any

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_lock = threading.RLock()
_applied = False


def serialize_dynamodb_writes() -> None:
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        original = getattr(DynamoDBBackend, name, None)
        if original is None:
            continue

        def serialized(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _lock:
                return __original(*args, **kwargs)

        setattr(DynamoDBBackend, name, functools.wraps(original)(serialized))
    _applied = True

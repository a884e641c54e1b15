"""Moto's DynamoDB as the service behaves, where the project relies on it.

- DynamoDB runs each conditional write and each transaction as one serializable step; moto checks
  a condition and then writes without a lock, so two threads can both pass one condition. Here
  item writes are serialized.
- Moto backs up every table a transaction touches with a deep copy (to roll a failed one back),
  so a transaction costs as much as the whole table, and the local stack slows down as it fills.
  Here a transaction backs up only the items it names, and a failed one restores just those (and
  drops the stream records it made), which is the same rollback."""

from __future__ import annotations

import copy
import functools
import threading
from typing import Any

_WRITES = ("put_item", "update_item", "delete_item", "batch_write_item")
_lock = threading.RLock()
_in_transaction = threading.local()
_applied = False


class _CopyOutsideTransactions:
    """Stands in for the `copy` module inside moto's DynamoDB backend: inside a transaction a
    table is not copied (its touched items are backed up instead)."""

    @staticmethod
    def deepcopy(value: Any) -> Any:
        from moto.dynamodb.models.table import Table

        if isinstance(value, Table) and getattr(_in_transaction, "active", False):
            return value
        return copy.deepcopy(value)


def _key_of(table: Any, operation: dict[str, Any]) -> tuple[Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    attributes = operation.get("Key") or operation.get("Item") or {}
    hash_value = DynamoType(attributes[table.hash_key_attr])
    range_value = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
    return hash_value, range_value


def _transact_write_items(original: Any) -> Any:
    def transact(backend: Any, transact_items: list[dict[str, Any]]) -> Any:
        with _lock:
            backups = []
            streams = {}
            for entry in transact_items:
                (operation,) = entry.values()
                table = backend.tables.get(operation.get("TableName"))
                if table is None:
                    continue
                hash_value, range_value = _key_of(table, operation)
                stored = table.items.get(hash_value)
                current = stored.get(range_value) if range_value is not None and stored else stored
                backups.append((table, hash_value, range_value, copy.deepcopy(current)))
                if table.stream_shard is not None:
                    streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))
            _in_transaction.active = True
            try:
                return original(backend, transact_items)
            except Exception:
                for table, hash_value, range_value, item in reversed(backups):
                    _restore(table, hash_value, range_value, item)
                for shard, length in streams.values():
                    del shard.items[length:]
                raise
            finally:
                _in_transaction.active = False

    return functools.wraps(original)(transact)


def _restore(table: Any, hash_value: Any, range_value: Any, item: Any) -> None:
    if range_value is None:
        if item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item
        return
    partition = table.items[hash_value]
    if item is None:
        partition.pop(range_value, None)
    else:
        partition[range_value] = item


def serialize_dynamodb_writes() -> None:
    global _applied
    if _applied:
        return
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        original = getattr(DynamoDBBackend, name)

        def serialized(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _lock:
                return __original(*args, **kwargs)

        setattr(DynamoDBBackend, name, functools.wraps(original)(serialized))
    DynamoDBBackend.transact_write_items = _transact_write_items(DynamoDBBackend.transact_write_items)  # type: ignore[method-assign]
    models.copy = _CopyOutsideTransactions  # type: ignore[attr-defined,assignment]
    _applied = True

"""Moto at the bench's scale. Moto answers a query on the table's own key by sorting every item
in the table and keeping the partition's; DynamoDB reads just the partition. At 1,000 accounts of
50 positions each query would cost as much as the whole table, and the bench would measure moto.
Within `moto_at_scale()` such a query reads the partition only. Queries on an index are left as
moto makes them. (Transactions back up only the items they name everywhere moto runs here: see
`infra/local/serial_writes.py`.)"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.models.table import Table

_INDEX_NAME_POSITION = (
    6  # Table.query(hash_key, comparison, values, limit, start, forward, projection, index_name…)
)


@contextmanager
def moto_at_scale() -> Iterator[None]:
    asked = threading.local()
    original_query, original_all_items = Table.query, Table.all_items

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        on_index = (
            args[_INDEX_NAME_POSITION] if len(args) > _INDEX_NAME_POSITION else kwargs.get("index_name")
        )
        asked.partition = None if on_index else hash_key
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            asked.partition = None

    def all_items(self: Table) -> Any:
        partition = getattr(asked, "partition", None)
        if partition is None or not self.range_key_attr:
            return original_all_items(self)
        return sorted(self.items.get(partition, {}).values(), key=lambda item: item.range_key)

    Table.query, Table.all_items = query, all_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query, Table.all_items = original_query, original_all_items  # type: ignore[method-assign]

"""Moto's server without four costs that real AWS does not have.

- Moto's server closes every connection after one answer; it keeps them open here
  (`keep_alive`), as AWS does.
- For every request, moto's dispatcher lists its package folder on disk and tries hundreds of URL
  patterns to learn which backend serves the request's host, under one lock shared by all
  requests. Which backend serves a host never changes while the server runs: it is remembered.
- A DynamoDB query of a table's own key reads only its partition here. Moto sorts every item of
  the table and measures the size of each item of the partition, matching or not, on every
  query: an account with a few hundred trades made each read of its positions cost as much as
  the order it served. Queries of an index, or with a legacy filter, still go through moto.
- Moto writes each DynamoDB answer by walking the operation's output shape member by member,
  which costs hundreds of milliseconds for a page of items. The answers of item operations and
  stream reads are already their wire JSON (attribute values as DynamoDB writes them), so they
  are written with `json.dumps`; one that is not plain JSON (a binary attribute) still goes
  through moto's writer."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

# Item operations and stream reads: their answers hold items, keys, counts, consumed capacity
# and stream records only.
JSON_ANSWERS = frozenset(
    {
        *(
            ("dynamodb", operation)
            for operation in (
                "GetItem",
                "BatchGetItem",
                "Query",
                "Scan",
                "PutItem",
                "UpdateItem",
                "DeleteItem",
                "BatchWriteItem",
                "TransactGetItems",
                "TransactWriteItems",
            )
        ),
        ("dynamodbstreams", "GetRecords"),
    }
)
_applied = False


def speed_up_moto() -> None:
    global _applied
    if _applied:
        return
    _keep_connections_alive()
    _remember_backends_per_host()
    _query_one_partition()
    _write_item_answers_as_json()
    _applied = True


def _keep_connections_alive() -> None:
    from moto.moto_server import threaded_moto_server
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    from infra.local.keep_alive import KeepAliveRequestHandler

    class KeepAliveMotoRequestHandler(KeepAliveRequestHandler, MotoRequestHandler):
        pass

    # The name the threaded server hands to werkzeug when it starts.
    setattr(threaded_moto_server, "MotoRequestHandler", KeepAliveMotoRequestHandler)  # noqa: B010


def _remember_backends_per_host() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    find = DomainDispatcherApplication.get_backend_for_host
    found: dict[str | None, Any] = {}

    def backend_for_host(app: DomainDispatcherApplication, host: str | None) -> Any:
        # Called under the dispatcher's own lock, so each host is looked up once.
        if host not in found:
            found[host] = find(app, host)
        return found[host]

    setattr(DomainDispatcherApplication, "get_backend_for_host", functools.wraps(find)(backend_for_host))  # noqa: B010


def _query_one_partition() -> None:
    from moto.dynamodb.models.table import Table

    setattr(Table, "query", _reading_one_partition(Table.query))  # noqa: B010


@contextmanager
def queries_read_one_partition() -> Iterator[None]:
    """Within it, queries of a table's own key read only their partition (the bench's in-process
    moto, at a thousand accounts)."""
    from moto.dynamodb.models.table import Table

    query = Table.query
    setattr(Table, "query", _reading_one_partition(query))  # noqa: B010
    try:
        yield
    finally:
        setattr(Table, "query", query)  # noqa: B010


def _reading_one_partition(query: Any) -> Any:
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table

    def partition_query(
        table: Table,
        hash_key: Any,
        range_comparison: str | None,
        range_objs: list[Any],
        limit: int,
        exclusive_start_key: dict[str, Any] | None,
        scan_index_forward: bool,
        projection_expressions: list[list[str]] | None,
        index_name: str | None = None,
        consistent_read: bool = False,
        filter_expression: Any = None,
        hash_key_conditions: Any = None,
        range_key_conditions: list[Any] | None = None,
        **filter_kwargs: Any,
    ) -> Any:
        if index_name or filter_kwargs or not table.range_key_attr or len(range_key_conditions or ()) > 1:
            return query(
                table,
                hash_key,
                range_comparison,
                range_objs,
                limit,
                exclusive_start_key,
                scan_index_forward,
                projection_expressions,
                index_name,
                consistent_read,
                filter_expression,
                hash_key_conditions,
                range_key_conditions,
                **filter_kwargs,
            )
        partition = table.items.get(hash_key) or {}
        matching = sorted(
            (
                item
                for item in partition.values()
                if not range_comparison or item.range_key.compare(range_comparison, range_objs)
            ),
            key=lambda item: item.range_key,
            reverse=not scan_index_forward,
        )
        if exclusive_start_key is not None:
            key_attrs: list[str | None] = [table.range_key_attr]
            matching = [
                item
                for item in matching
                if not table._item_comes_before_dct(
                    item, exclusive_start_key, [table.hash_key_attr], key_attrs, scan_index_forward
                )
            ]
        page: list[Any] = []
        page_size, last_evaluated_key = 0, None
        for item in matching:
            item_size = item.size()
            if len(page) == limit or page_size + item_size > RESULT_SIZE_LIMIT:
                last_evaluated_key = table._get_last_evaluated_key(page[-1], None)
                break
            page.append(item)
            page_size += item_size
        # No copy: the answer is built from new objects, and a projection makes new items.
        results = page
        if filter_expression is not None:
            results = [item for item in results if filter_expression.expr(item)]
        if projection_expressions:
            results = [item.project(projection_expressions) for item in results]
        return results, len(page), last_evaluated_key

    return functools.wraps(query)(partition_query)


def _write_item_answers_as_json() -> None:
    from moto.core.responses import ActionResult

    write = ActionResult.execute_result

    def execute_result(result: ActionResult, context: Any) -> Any:
        if (context.service_model.service_name, context.operation_model.name) in JSON_ANSWERS:
            try:
                body = json.dumps(result.result, default=_epoch_seconds)
            except TypeError:
                return write(result, context)
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, body
        return write(result, context)

    setattr(ActionResult, "execute_result", functools.wraps(write)(execute_result))  # noqa: B010


def _epoch_seconds(value: object) -> float:
    """How the JSON protocol writes a timestamp (a stream record's creation time)."""
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} is not plain JSON")

"""Wake-ups from moto's backends, which run in this process: a queue poller hears that its queue
changed and a `?wait` that its trade was written, instead of each polling on a timer.

Every hook runs after moto has applied the change, so whoever wakes reads the new state. A wake-up
that finds nothing new is harmless (the waiter looks and waits again), so the hooks err on the
side of waking."""

from __future__ import annotations

import functools
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.Lock()
_applied = False


class Changes:
    """A count of changes to one thing, and a wait for the next."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0

    @property
    def count(self) -> int:
        return self._count

    def notify(self) -> None:
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        """Returns once the count is past `seen` (at once if it already is), or after `timeout`."""
        with self._changed:
            self._changed.wait_for(lambda: self._count != seen, timeout=timeout)


class QueueActivity(Changes):
    """A queue's changes: a message sent, deleted (which frees its FIFO group) or made visible
    again, and when the next hidden message shows (its delay or visibility timeout ends)."""

    def __init__(self) -> None:
        super().__init__()
        self.queue: Any = None  # moto's queue, known from its first message

    def next_visible_in(self, at_most: float) -> float:
        """Seconds until a message that is hidden now shows, at most `at_most`."""
        queue = self.queue
        if queue is None:
            return at_most
        now_ms = time.time() * 1000
        shows = [
            max(message.visible_at, message.delayed_until)
            for message in list(queue._messages)
            if max(message.visible_at, message.delayed_until) > now_ms
        ]
        return min([at_most, *(float(show - now_ms) / 1000 for show in shows)])


class _ItemWatch:
    """Set when the watched item is written; a wait clears it for the next write."""

    def __init__(self) -> None:
        self._written = threading.Event()

    def written(self) -> None:
        self._written.set()

    def wait(self, seconds: float) -> None:
        self._written.wait(seconds)
        self._written.clear()


_queues: defaultdict[str, QueueActivity] = defaultdict(QueueActivity)
_item_watches: defaultdict[tuple[str, str], set[_ItemWatch]] = defaultdict(set)


def queue_activity(queue_url: str) -> QueueActivity:
    listen_to_moto()
    with _lock:
        return _queues[queue_url.rsplit("/", 1)[-1]]


class TradeWritesHeard:
    """`mtcore.trading.reads.TradeWrites` for the local stack: a wait wakes when moto writes the
    trade's item."""

    @contextmanager
    def watch(self, account_id: str, trade_id: str) -> Iterator[_ItemWatch]:
        # Imported here: the queue pollers, which share this module, load none of the core layer.
        from mtcore.store.keys import account_pk, trade_sk

        listen_to_moto()
        key = (account_pk(account_id), trade_sk(trade_id))
        watch = _ItemWatch()
        with _lock:
            _item_watches[key].add(watch)
        try:
            yield watch
        finally:
            with _lock:
                _item_watches[key].discard(watch)
                if not _item_watches[key]:
                    del _item_watches[key]


def _queue_changed(name: str, queue: Any = None) -> None:
    with _lock:
        activity = _queues[name]
        if queue is not None:
            activity.queue = queue
    activity.notify()


def _item_written(items: tuple[Any, ...]) -> None:
    keys = {
        (str(item.hash_key.value), str(item.range_key.value))
        for item in items
        if item is not None and item.range_key is not None
    }
    with _lock:
        watches = [watch for key in keys for watch in _item_watches.get(key, ())]
    for watch in watches:
        watch.written()


def listen_to_moto() -> None:
    """Hooks moto's SQS and DynamoDB backends (once per process)."""
    global _applied
    with _lock:
        if _applied:
            return
        _applied = True
    from moto.dynamodb.models.table import StreamShard
    from moto.sqs.models import Queue, SQSBackend

    add_message = Queue.add_message

    def added(queue: Queue, *args: Any, **kwargs: Any) -> None:
        add_message(queue, *args, **kwargs)
        _queue_changed(queue.name, queue)

    setattr(Queue, "add_message", functools.wraps(add_message)(added))  # noqa: B010 - typed as moto's method
    # Each frees a FIFO group or shows a message sooner than its timeout would.
    for name in (
        "delete_message",
        "delete_message_batch",
        "change_message_visibility",
        "change_message_visibility_batch",
    ):
        original = getattr(SQSBackend, name)

        def changed(
            backend: Any, queue_name: str, *args: Any, __original: Any = original, **kwargs: Any
        ) -> Any:
            try:
                return __original(backend, queue_name, *args, **kwargs)
            finally:
                _queue_changed(queue_name)

        setattr(SQSBackend, name, functools.wraps(original)(changed))
    # Every item write to a table with a stream (put, update, delete, in a batch or a transaction)
    # ends in its shard's `add`, after the item is stored.
    add_record = StreamShard.add

    def recorded(shard: StreamShard, old: Any, new: Any) -> None:
        add_record(shard, old, new)
        _item_written((old, new))

    setattr(StreamShard, "add", functools.wraps(add_record)(recorded))  # noqa: B010 - typed as moto's method

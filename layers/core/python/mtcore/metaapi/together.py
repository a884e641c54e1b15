"""Independent MetaApi reads side by side: the wall time of a set of reads is its slowest call,
not their sum (each call is a network round trip of tens of milliseconds)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def together(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Every call's answer, in order. All calls run to the end; then the first failure, in call
    order, is raised, as if they had run one after another."""
    if len(calls) <= 1:
        return [call() for call in calls]
    # A pool per set, not one per container: sets never wait on each other's calls.
    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="metaapi") as pool:
        futures = [pool.submit(call) for call in calls]
    return [future.result() for future in futures]

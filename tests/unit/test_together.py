"""Independent MetaApi reads run side by side and fail as if they had run in a row."""

from __future__ import annotations

import threading

import pytest

from mtcore.metaapi.together import together


def test_calls_run_at_the_same_time_and_answer_in_order() -> None:
    # Each call waits for all three to have started: one after another, the barrier breaks.
    started = threading.Barrier(3, timeout=5)

    def call(value: int) -> int:
        started.wait()
        return value

    assert together([lambda: call(1), lambda: call(2), lambda: call(3)]) == [1, 2, 3]


def test_every_call_ends_then_the_first_failure_in_call_order_is_raised() -> None:
    finished: list[str] = []

    def fails(name: str) -> None:
        finished.append(name)
        raise ValueError(name)

    def answers() -> str:
        finished.append("answers")
        return "ok"

    with pytest.raises(ValueError, match="first"):
        together([answers, lambda: fails("first"), lambda: fails("second")])
    assert sorted(finished) == ["answers", "first", "second"]


def test_one_call_runs_in_the_callers_thread() -> None:
    assert together([threading.current_thread]) == [threading.current_thread()]
    assert together([]) == []

"""One notion of "not now" for every queue consumer: logic decides that a message must come back
later and after how long (`RetryLater`); `delivered` hands it back to its queue for that wait and
reports the record failed, so the batch keeps it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

ResultT = TypeVar("ResultT")
# SQS takes a visibility of at most 12 hours.
_MAX_WAIT_S = 43_200


class RetryLater(Exception):
    """Deliver this message again after `seconds`."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(f"{reason}; again in {seconds:.0f} s")
        self.seconds = min(max(0.0, seconds), _MAX_WAIT_S)


class HandsBack(Protocol):
    def retry_in(self, receipt_handle: str, seconds: float) -> None: ...


def delivered(receipt_handle: str, queue: HandsBack, work: Callable[[], ResultT]) -> ResultT:
    """Run one delivery. On `RetryLater` the message goes back to the queue for its wait, and the
    error is raised again for the batch processor to report the record failed."""
    try:
        return work()
    except RetryLater as later:
        queue.retry_in(receipt_handle, later.seconds)
        raise

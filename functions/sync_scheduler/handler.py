"""Lambda entry point of the sync scheduler (an EventBridge schedule, every minute by default).

A new container's init loads Powertools' logger and metrics only; the tick itself (`invocation`,
with the EventBridge event parser) loads with the first event (docs/benchmarks.md has both
figures)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mtcore.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from functions.sync_scheduler.invocation import handle

    answer: dict[str, Any] = handle(event, context)
    return answer

"""Lambda entry point: the table's stream → trade and account events on the bus, and a sync
of every account a trade changed.

A new container's init loads Powertools' logger and metrics only; the publishing (`invocation`) loads
with the first batch of stream records (docs/benchmarks.md has both figures)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mtcore.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    from functions.trade_events.invocation import handle

    return handle(event, context)

"""Lambda entry point of the price pump (its SQS queue, one message at a time).

Init loads Powertools' logger and metrics only; the pump (`invocation`) loads with its message."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mtcore.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    from functions.price_pump.invocation import handle

    return handle(event, context)

"""Lambda entry point of the email notifier (its SQS queue, partial batch failures).

Init loads Powertools' logger and metrics only; the rest (`invocation`) loads with the first batch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mtcore.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    from functions.email_notifier.invocation import handle

    return handle(event, context)

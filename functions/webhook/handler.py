"""Lambda entry point of the webhook intake: `POST /api/webhooks/{id}`, public (each webhook
authenticates its own senders). It answers in milliseconds and never calls MetaApi, well within
TradingView's 3 s.

A new container's init loads Powertools' logger and metrics only; the intake itself
(`invocation`) loads with the first alert (docs/benchmarks.md has both figures)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mtcore.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from functions.webhook.invocation import handle

    return handle(event)

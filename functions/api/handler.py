"""Lambda entry point of the HTTPS API.

A new container's init loads Powertools' logger and metrics only; the resolver (`invocation`)
loads with the first request, and each route module with the first request that may match one
of its routes (docs/benchmarks.md has both figures)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths

from mtcore.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from functions.api.invocation import handle

    return handle(event, context)

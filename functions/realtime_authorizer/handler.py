"""Lambda entry point of the WebSocket `$connect` authorizer (REQUEST type).

Init loads Powertools' logger only; the token check (`invocation`) loads with the first call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mtcore.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from functions.realtime_authorizer.invocation import handle

    return handle(event)

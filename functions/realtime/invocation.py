"""What one WebSocket route does. `$connect` only comes through once the authorizer has let the
caller in and named them (`requestContext.authorizer.userId`); frames go back through the
management API, so every route answers API Gateway with a bare 200."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from mtcore.accounts import get_accounts_repository
from mtcore.observability import logger, metrics
from mtcore.realtime.connections import get_connections_repository
from mtcore.realtime.pump import get_pump_control
from mtcore.realtime.push import get_push
from mtcore.realtime.sessions import Sessions

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

_OK = {"statusCode": 200}


def _sessions() -> Sessions:
    connections = get_connections_repository()
    return Sessions(
        connections=connections,
        accounts=get_accounts_repository(),
        push=get_push(),
        pump=get_pump_control(connections),
    )


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = event.get("requestContext") or {}
    route, connection_id = request.get("routeKey"), str(request.get("connectionId", ""))
    logger.append_keys(connectionId=connection_id, routeKey=route)
    sessions = _sessions()
    if route == "$connect":
        user_id = (request.get("authorizer") or {}).get("userId")
        if not isinstance(user_id, str) or not user_id:
            # Only reachable past the authorizer; a connection without a user is refused anyway.
            return {"statusCode": 401}
        sessions.open(connection_id, user_id)
        metrics.add_metric(name="WebSocketConnects", unit=MetricUnit.Count, value=1)
    elif route == "$disconnect":
        sessions.close(connection_id)
    else:
        sessions.act(connection_id, event.get("body"))
    return _OK

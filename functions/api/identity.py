"""Who is calling. API Gateway's Cognito authorizer has already verified the token; the
handler only reads the verified `sub` claim, which is the tenant id."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Request

from mtcore.errors import Unauthorized


def caller_id(request: Request) -> str:
    context = request.resolved_event.raw_event.get("requestContext") or {}
    claims = (context.get("authorizer") or {}).get("claims") or {}
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthorized("This route needs a signed-in user: send Authorization: Bearer <token>")
    return subject

"""What a dashboard that was away missed: the caller's pushed events after an event id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.identity import caller_id
from functions.api.openapi import SIGNED_IN, SIGNED_IN_ERRORS, answers
from mtcore.realtime.event_log import EventLog, get_event_log
from mtcore.realtime.models import EventPage

router = APIGatewayRouter()

Caller = Annotated[str, Depends(caller_id)]
Log = Annotated[EventLog, Depends(get_event_log)]


@router.get(
    "/events",
    summary="Events pushed to the caller, after one they saw",
    description=(
        "The frames the WebSocket pushed to the caller (every account of theirs), oldest first, kept 24 "
        "hours: a client that reconnects asks for those after the last `eventId` it saw, and drops "
        "any it already has by `eventId`. Without `after`, every event kept."
    ),
    tags=["events"],
    security=SIGNED_IN,
    responses=answers("One page of events", SIGNED_IN_ERRORS),
)
def list_events(
    user_id: Caller,
    log: Log,
    after: Annotated[
        str | None, Query(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="The last eventId the client saw")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 100,
    next_token: Annotated[
        str | None, Query(alias="nextToken", max_length=2048, description="From the previous page")
    ] = None,
) -> EventPage:
    return log.after(user_id, after, now=datetime.now(UTC), limit=limit, next_token=next_token)

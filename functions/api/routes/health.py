from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict

from functions.api.openapi import PUBLIC_ERRORS, answers
from mtcore import SERVICE_NAME, __version__

router = APIGatewayRouter()


class Health(BaseModel):
    # Built by the first health check, not by every cold start.
    model_config = ConfigDict(defer_build=True)

    status: str
    service: str
    version: str


@router.get(
    "/health",
    summary="Liveness check",
    description="Answers without authentication and without touching AWS or MetaApi.",
    tags=["health"],
    responses=answers("The service is up", PUBLIC_ERRORS),
)
def health() -> Health:
    return Health(status="ok", service=SERVICE_NAME, version=__version__)

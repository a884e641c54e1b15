"""What API Gateway itself answers, shared by the CDK API construct and the local gateway
(which plays API Gateway's part locally), so both answer alike. No CDK imports here."""

from __future__ import annotations

from typing import NamedTuple


class GatewayError(NamedTuple):
    response_type: str  # aws_apigateway.ResponseType attribute name
    status: int
    code: str
    message: str


UNAUTHORIZED = GatewayError(
    "UNAUTHORIZED",
    401,
    "UNAUTHORIZED",
    "This route needs a signed-in user: send Authorization: Bearer <token>",
)
NO_ROUTE = GatewayError("MISSING_AUTHENTICATION_TOKEN", 404, "NOT_FOUND", "No such route")
GATEWAY_ERRORS = [
    UNAUTHORIZED,
    GatewayError("ACCESS_DENIED", 403, "FORBIDDEN", "This token may not call this route"),
    NO_ROUTE,
    GatewayError("THROTTLED", 429, "RATE_LIMITED", "Too many requests: slow down and retry"),
    GatewayError("INTEGRATION_TIMEOUT", 504, "UPSTREAM_TIMEOUT", "The request took too long"),
    GatewayError("DEFAULT_5_XX", 500, "INTERNAL_ERROR", "Something went wrong on our side"),
]

CORS_ALLOW_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"]
API_ROOT = "api"
# Routes API Gateway serves without the Cognito authorizer (method, resource path).
PUBLIC_ROUTES = {("GET", "/api/health")}
# The webhook intake: public, its own function; each webhook authenticates its senders.
WEBHOOK_INTAKE_RESOURCE = "/api/webhooks/{id}"
# The Telegram bot's webhook: public, its own function; Telegram proves itself with a secret header.
TELEGRAM_WEBHOOK_RESOURCE = "/api/telegram/webhook"

"""What one request to the HTTPS API does: resolved by the routes it may match, answered with CORS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from functions.api.cors import with_cors
from functions.api.resolver import app
from mtcore.observability import metrics
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = app.resolve(event, context)
    # Server errors are answered as JSON, not raised, so they are counted here for alarms.
    metrics.add_metric(
        name="ApiServerErrors", unit=MetricUnit.Count, value=int(response["statusCode"] >= 500)
    )
    return with_cors(response, event, get_settings().cors_allow_origins)

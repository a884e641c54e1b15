"""Logger, metrics and call timings shared by every function, configured the Powertools way.

Service name, log level and the metrics namespace come from the standard POWERTOOLS_*
environment variables the stack sets, so nothing here reads settings.

Tracing is Lambda's own (active tracing: one segment per invocation, its init and its duration).
Every outside call is timed here instead of by the X-Ray SDK, whose import alone cost more than
`import boto3` at every cold start: each DynamoDB, SQS, Secrets Manager, EventBridge and MetaApi
call adds its latency to a `<Service>CallLatency` metric (EMF, flushed with the invocation's
other metrics) and a debug log line naming the operation.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from mtcore import SERVICE_NAME

if TYPE_CHECKING:
    from botocore.client import BaseClient

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(service=SERVICE_NAME, namespace="MtBackend")

_STARTED = "mtcore.call_started"


def record_call(service: str, operation: str, seconds: float, *, status: int | None = None) -> None:
    """One outside call's latency, as a metric value and a debug log line."""
    milliseconds = round(seconds * 1000, 1)
    metrics.add_metric(name=f"{service}CallLatency", unit=MetricUnit.Milliseconds, value=milliseconds)
    logger.debug(
        "outside call", extra={"call": f"{service}.{operation}", "ms": milliseconds, "status": status}
    )


def time_aws_calls(client: BaseClient, service: str) -> None:
    """Time every call of a boto3 client, its retries included, whether it succeeds or not."""

    def started(model: Any, context: dict[str, Any], **_: Any) -> None:
        context[_STARTED] = (model.name, time.perf_counter())

    def ended(context: dict[str, Any], http_response: Any = None, **_: Any) -> None:
        # after-call when an answer came (an error answer too), after-call-error when none did.
        call = context.pop(_STARTED, None)
        if call is not None:
            operation, began = call
            status = getattr(http_response, "status_code", None)
            record_call(service, operation, time.perf_counter() - began, status=status)

    events = client.meta.events
    events.register("before-call", started)
    events.register("after-call", ended)
    events.register("after-call-error", ended)

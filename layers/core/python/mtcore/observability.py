"""Logger, tracer and metrics shared by every function, configured the Powertools way.

Service name, log level, sampling and the metrics namespace come from the standard
POWERTOOLS_* environment variables the stack sets, so nothing here reads settings.

The tracer is made on first use: making it loads the X-Ray SDK, which a function that never
traces (the webhook intake) does not pay for at its cold start.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer

from mtcore import SERVICE_NAME

if TYPE_CHECKING:
    tracer: Tracer

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(service=SERVICE_NAME, namespace="MtBackend")


@lru_cache(maxsize=1)
def _tracer() -> Tracer:
    return Tracer(service=SERVICE_NAME)


def __getattr__(name: str) -> Any:
    if name == "tracer":
        return _tracer()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

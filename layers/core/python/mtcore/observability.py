"""Logger, tracer and metrics shared by every function, configured the Powertools way.

Service name, log level, sampling and the metrics namespace come from the standard
POWERTOOLS_* environment variables the stack sets, so nothing here reads settings.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

from mtcore import SERVICE_NAME

logger = Logger(service=SERVICE_NAME)
tracer = Tracer(service=SERVICE_NAME)
metrics = Metrics(service=SERVICE_NAME, namespace="MtBackend")

"""What one alert at the webhook intake does: taken or refused, answered in milliseconds without
calling MetaApi."""

from __future__ import annotations

import base64
import json
from typing import Any

from mtcore.observability import logger, metrics
from mtcore.signals.intake import Delivery, receive
from mtcore.signals.repository import get_signals_repository
from mtcore.trading.queue import get_trade_queue

INTAKE_PREFIX = "/api/webhooks/"


def _delivery(event: dict[str, Any]) -> Delivery:
    raw = event.get("body") or ""
    data = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    headers = {
        name.lower(): value for name, value in (event.get("headers") or {}).items() if value is not None
    }
    path_id = (event.get("pathParameters") or {}).get("id") or str(event.get("path", "")).removeprefix(
        INTAKE_PREFIX
    )
    identity = (event.get("requestContext") or {}).get("identity") or {}
    return Delivery(
        webhook_id=str(path_id),
        body=data.decode(errors="replace"),
        raw_body=data,
        content_type=headers.get("content-type"),
        source_ip=identity.get("sourceIp"),
        headers=headers,
    )


def handle(event: dict[str, Any]) -> dict[str, Any]:
    try:
        answer = receive(_delivery(event), signals=get_signals_repository(), queue=get_trade_queue())
    except Exception:
        # Logged without the body: it may carry the secret.
        logger.exception("alert not taken")
        metrics.add_metric(name="SignalIntakeErrors", unit="Count", value=1)
        body = {"code": "INTERNAL_ERROR", "message": "Something went wrong on our side; it has been logged"}
        return {"statusCode": 500, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
    return {
        "statusCode": answer.status,
        "headers": {"Content-Type": "application/json", **answer.headers},
        "body": json.dumps(answer.body),
    }

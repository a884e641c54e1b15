"""The authorizer's decision: Allow with the caller's `sub` as `userId` in the context every route
of the connection gets, or Deny (API Gateway then refuses the upgrade with a 403). The token is
never logged."""

from __future__ import annotations

from typing import Any

from mtcore.observability import logger
from mtcore.realtime.auth import get_token_verifier


def handle(event: dict[str, Any]) -> dict[str, Any]:
    token = (event.get("queryStringParameters") or {}).get("token") or ""
    subject = get_token_verifier().subject(token) if token else None
    effect = "Allow" if subject else "Deny"
    logger.info("websocket connection authorized" if subject else "websocket connection refused")
    policy: dict[str, Any] = {
        "principalId": subject or "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event.get("methodArn", "*")}
            ],
        },
    }
    if subject:
        policy["context"] = {"userId": subject}
    return policy

"""Notifications: how long a settled trade takes to reach the trader's Telegram chat in the local
stack, and the AWS calls one notification costs."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

import requests

from infra.local.stack import free_port
from tests.bench.latency import ORDER, _demo_account, _percentiles, _start_local_stack

CHAT = 777000111


def trade_to_telegram_latencies(count: int = 100, telegram_port: int = 0) -> dict[str, float]:
    """From each trade's settlement (its `updatedAt`) to its message at the simulated Telegram
    chat, one trade after another."""
    telegram_port = telegram_port or free_port("127.0.0.1")
    api, simulator, process = _start_local_stack(telegram_port=telegram_port)
    telegram = f"http://127.0.0.1:{telegram_port}"
    try:
        session, account_id = _demo_account(api, simulator)
        code = session.post(f"{api}/api/metatrader/settings/notifications/telegram/link", timeout=10).json()[
            "code"
        ]
        requests.post(
            f"{telegram}/_sim/telegram/updates", json={"chatId": CHAT, "text": f"/start {code}"}, timeout=30
        ).raise_for_status()
        samples: list[float] = []
        for _ in range(count):
            accepted = session.post(
                f"{api}/api/metatrader/accounts/{account_id}/orders", json=ORDER, timeout=10
            )
            trade = session.get(
                f"{api}{accepted.headers['Location']}", params={"wait": 10}, timeout=20
            ).json()
            deadline = time.monotonic() + 10
            while True:
                sent = requests.get(
                    f"{telegram}/_sim/telegram/messages", params={"chatId": CHAT}, timeout=10
                ).json()
                bought = [m for m in sent if m["text"].startswith("Bought")]
                if len(bought) > len(samples):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("a trade's message did not reach the chat within 10 s")
                time.sleep(0.01)
            arrived = datetime.fromisoformat(bought[-1]["receivedAt"])
            samples.append((arrived - datetime.fromisoformat(trade["updatedAt"])).total_seconds())
    finally:
        process.terminate()
        process.wait(timeout=30)
    return _percentiles(samples)


def notification_calls() -> dict[str, Counter[str]]:
    """AWS calls of the Telegram notifier for one event, in-process (moto, the real handler, the
    Telegram simulator): the first in a new container, then another."""
    from infra.local.gateway import LambdaContext
    from infra.local.resources import function_environment, queue_subscriptions
    from infra.local.stack import serve_in_thread
    from infra.local.telegram_sim import TelegramSimulator
    from infra.synth import synthesized_template
    from mtcore.aws import dynamodb_client, secretsmanager_client, sqs_client
    from mtcore.notifications.repository import get_notifications_repository
    from tests.bench.calls import _environment
    from tests.containers import new_container

    handler = "functions.telegram_notifier.handler.lambda_handler"
    template = synthesized_template()
    with _environment() as (_, _, _, resources):
        import os

        import boto3

        os.environ.update(function_environment(template, handler, resources))
        telegram = serve_in_thread(TelegramSimulator("1:bench"), "127.0.0.1", 0)
        os.environ["TELEGRAM_API_URL"] = f"http://127.0.0.1:{telegram.server_port}"
        boto3.client("secretsmanager").put_secret_value(
            SecretId=os.environ["TELEGRAM_BOT_TOKEN_SECRET_ID"], SecretString="1:bench"
        )
        new_container()
        get_notifications_repository().bind("alice", CHAT)
        from functions.telegram_notifier.handler import lambda_handler
        from mtcore.notifications.telegram import get_bot_secrets

        get_bot_secrets.cache_clear()
        queue_arn = next(
            s.queue_arn for s in queue_subscriptions(template, resources) if s.handler == handler
        )
        aws: Counter[str] = Counter()
        for client in (dynamodb_client(), secretsmanager_client(), sqs_client()):
            client.meta.events.register("before-call", lambda model, **_: aws.update([model.name]))
        figures: dict[str, Counter[str]] = {}
        try:
            for label in ("first notification, new container", "another notification"):
                aws.clear()
                event = {
                    "id": str(uuid.uuid4()),
                    "detail-type": "TradeExecuted",
                    "detail": {
                        "userId": "alice",
                        "accountId": "none",
                        "kind": "open",
                        "action": "ORDER_TYPE_BUY",
                        "symbol": "BTCUSD",
                        "volume": 0.01,
                        "executedPrice": 67000,
                        "status": "EXECUTED",
                    },
                }
                record: dict[str, Any] = {
                    "messageId": "m",
                    "receiptHandle": "r",
                    "body": json.dumps(event),
                    "attributes": {},
                    "messageAttributes": {},
                    "md5OfBody": "",
                    "eventSource": "aws:sqs",
                    "eventSourceARN": queue_arn,
                    "awsRegion": "us-east-1",
                }
                context: Any = LambdaContext("notifier", time.monotonic() + 30, str(uuid.uuid4()))
                answer = lambda_handler({"Records": [record]}, context)
                assert answer == {"batchItemFailures": []}, answer
                figures[label] = Counter(aws)
        finally:
            telegram.shutdown()
            telegram.server_close()
        return figures

"""Notifications: the real API, notifiers and bot webhook against moto (SES included) and the
Telegram simulator, with trades and their events as the stack makes them."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests

from infra.local.gateway import LambdaContext
from infra.local.mail import sent_mail
from infra.local.resources import (
    LOCAL_SECRET_VALUE,
    LocalResources,
    function_environment,
    queue_subscriptions,
)
from infra.local.telegram_sim import TelegramSimulator
from tests.containers import new_container
from tests.integration.conftest import Api, Simulator

BOT_TOKEN = "424242:token-under-test"
CHAT = 987654321
OTHER_CHAT = 123123123
GROUP_CHAT = -1001234567890
ORDER = {"symbol": "BTCUSD", "actionType": "ORDER_TYPE_BUY", "volume": 0.01}
SETTINGS = "/api/metatrader/settings/notifications"
ACCOUNTS = "/api/metatrader/accounts"
TELEGRAM_NOTIFIER = "functions.telegram_notifier.handler.lambda_handler"
EMAIL_NOTIFIER = "functions.email_notifier.handler.lambda_handler"
BOT = "functions.telegram_bot.handler.lambda_handler"


@dataclass
class Notify:
    telegram: TelegramSimulator
    url: str
    pollers: dict[str, Any]
    subscriptions: dict[str, Any]
    stream: Any
    executor: Any

    def say(
        self, chat_id: int, text: str, *, secret: str = LOCAL_SECRET_VALUE, chat_type: str = "private"
    ) -> int:
        """A message typed in a chat, as Telegram hands it to the bot's webhook."""
        from functions.telegram_bot.handler import lambda_handler

        update = {
            "update_id": 1,
            "message": {"message_id": 1, "date": 0, "chat": {"id": chat_id, "type": chat_type}, "text": text},
        }
        event = {
            "resource": "/api/telegram/webhook",
            "path": "/api/telegram/webhook",
            "httpMethod": "POST",
            "headers": {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"},
            "requestContext": {"requestId": str(uuid.uuid4())},
            "body": json.dumps(update),
        }
        context: Any = LambdaContext("bot", time.monotonic() + 25, str(uuid.uuid4()))
        status: int = lambda_handler(event, context)["statusCode"]
        return status

    def messages(self, chat_id: int) -> list[str]:
        answer = requests.get(
            f"{self.url}/_sim/telegram/messages", params={"chatId": chat_id}, timeout=5
        ).json()
        return [message["text"] for message in answer]

    def deliver(self) -> None:
        """The executor, the stream's events and both notifiers, as Lambda runs them."""
        for _ in range(3):
            self.executor.poll_once()
            self.stream.poll_once()
            for poller in self.pollers.values():
                while poller.poll_once():
                    pass


@pytest.fixture
def notify(
    aws: LocalResources,
    template: dict[str, Any],
    simulator: Simulator,
    executor_poller: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Notify]:
    from infra.local.queues import QueuePoller, StreamPoller, load_handler
    from infra.local.resources import stream_subscriptions
    from infra.local.stack import serve_in_thread

    for handler in (TELEGRAM_NOTIFIER, EMAIL_NOTIFIER, BOT):
        for name, value in function_environment(template, handler, aws).items():
            monkeypatch.setenv(name, value)
    telegram = TelegramSimulator(BOT_TOKEN)
    server = serve_in_thread(telegram, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("TELEGRAM_API_URL", url)
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "mt_backend_local_bot")
    environment = function_environment(template, BOT, aws)
    boto3.client("secretsmanager").put_secret_value(
        SecretId=environment["TELEGRAM_BOT_TOKEN_SECRET_ID"], SecretString=BOT_TOKEN
    )
    new_container()
    from mtcore.notifications.telegram import get_bot_secrets

    get_bot_secrets.cache_clear()
    subscriptions = {s.handler: s for s in queue_subscriptions(template, aws)}
    sqs = boto3.client("sqs")
    pollers = {
        h: QueuePoller(sqs, subscriptions[h], load_handler(h)) for h in (TELEGRAM_NOTIFIER, EMAIL_NOTIFIER)
    }
    stream_subscription = stream_subscriptions(template, aws)[0]
    stream = StreamPoller(
        boto3.client("dynamodb"),
        boto3.client("dynamodbstreams"),
        stream_subscription,
        load_handler(stream_subscription.handler),
    )
    yield Notify(telegram, url, pollers, subscriptions, stream, executor_poller)
    get_bot_secrets.cache_clear()
    server.shutdown()
    server.server_close()


def link(api: Api, notify: Notify, user: str = "alice", chat: int = CHAT) -> None:
    answer = api.call("POST", f"{SETTINGS}/telegram/link", user=user)
    assert answer.status == 200, answer.body
    assert answer.body["link"] == f"https://t.me/mt_backend_local_bot?start={answer.body['code']}"
    assert notify.say(chat, f"/start {answer.body['code']}") == 200


def fills_on_both_channels(api: Api) -> None:
    """alice wants her fills by Telegram and by email too."""
    answer = api.call(
        "PUT",
        SETTINGS,
        user="alice",
        body={
            "email": {"enabled": True, "address": "alice@example.com"},
            "events": {"tradeExecuted": ["telegram", "email"]},
        },
    )
    assert answer.status == 200, answer.body


def risk_breached(account_id: str) -> dict[str, Any]:
    """alice's account reached its daily loss limit, as the bus hands it to a notifier."""
    return {
        "id": str(uuid.uuid4()),
        "detail-type": "RiskLimitBreached",
        "source": "mt-backend.accounts",
        "detail": {
            "userId": "alice",
            "accountId": account_id,
            "code": "DAILY_LOSS",
            "message": "daily loss reached",
            "limit": "100",
            "value": "120",
        },
    }


def test_defaults_then_changes_are_kept_and_email_needs_an_address(api: Api, notify: Notify) -> None:
    defaults = api.call("GET", SETTINGS, user="alice").body
    refused = api.call("PUT", SETTINGS, user="alice", body={"email": {"enabled": True}})
    changed = api.call(
        "PUT",
        SETTINGS,
        user="alice",
        body={
            "email": {"enabled": True, "address": "alice@example.com"},
            "events": {"tradeExecuted": ["email"]},
        },
    )

    assert defaults["events"]["tradeExecuted"] == ["telegram"]
    assert defaults["events"]["riskBreached"] == ["telegram", "email"]
    assert defaults["telegram"] == {"enabled": True, "linked": False}
    assert defaults["email"]["enabled"] is False
    assert (refused.status, refused.body["details"][0]["field"]) == (422, "body.email.address")
    assert changed.body["events"]["tradeExecuted"] == ["email"]
    assert changed.body["events"]["tradeRejected"] == ["telegram", "email"]  # untouched
    assert api.call("GET", SETTINGS, user="alice").body == changed.body


def test_a_chat_is_linked_by_its_code_once_and_an_old_code_links_nothing(api: Api, notify: Notify) -> None:
    code = api.call("POST", f"{SETTINGS}/telegram/link", user="alice").body["code"]

    notify.say(CHAT, f"/start {code}")
    notify.say(OTHER_CHAT, f"/start {code}")  # the same code again, from another chat
    notify.say(OTHER_CHAT, "/start not-a-code")

    assert "This chat is linked" in notify.messages(CHAT)[-1]
    assert all("used or has expired" in text for text in notify.messages(OTHER_CHAT))
    assert api.call("GET", SETTINGS, user="alice").body["telegram"]["linked"] is True
    assert api.call("DELETE", f"{SETTINGS}/telegram", user="alice").status == 204
    assert api.call("GET", SETTINGS, user="alice").body["telegram"]["linked"] is False


def test_an_expired_code_links_nothing(api: Api, notify: Notify) -> None:
    from datetime import UTC, datetime, timedelta

    from mtcore.notifications.repository import get_notifications_repository

    code, _ = get_notifications_repository().new_code("alice", datetime.now(UTC) - timedelta(hours=1))
    notify.say(CHAT, f"/start {code}")

    assert api.call("GET", SETTINGS, user="alice").body["telegram"]["linked"] is False


def test_a_trade_reaches_the_channels_its_owner_chose_once(
    api: Api, notify: Notify, linked: tuple[str, str]
) -> None:
    _, account_id = linked
    link(api, notify)
    fills_on_both_channels(api)

    placed = api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER)
    notify.deliver()
    notify.deliver()  # nothing more arrives: each event went once

    executed = [text for text in notify.messages(CHAT) if text.startswith("Bought")]
    assert placed.status == 202, notify.messages(CHAT)
    assert len(executed) == 1, notify.messages(CHAT)
    assert "0.01 BTCUSD at" in executed[0]
    mail = sent_mail("alice@example.com")
    assert [m["subject"] for m in mail] == [mail[0]["subject"]]
    assert "trade executed" in mail[0]["subject"]
    assert "Bought 0.01 BTCUSD" in mail[0]["body"]
    assert notify.messages(OTHER_CHAT) == []


def test_a_redelivered_batch_sends_nothing_twice(api: Api, notify: Notify, linked: tuple[str, str]) -> None:
    from functions.telegram_notifier.handler import lambda_handler

    link(api, notify)
    event = risk_breached(linked[1])
    queue_arn = notify.subscriptions[TELEGRAM_NOTIFIER].queue_arn
    record = {
        "messageId": "m1",
        "receiptHandle": "r1",
        "body": json.dumps(event),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    }
    for _ in range(2):
        answer = lambda_handler(
            {"Records": [record]}, LambdaContext("n", time.monotonic() + 30, str(uuid.uuid4()))
        )
        assert answer == {"batchItemFailures": []}

    [sent] = [text for text in notify.messages(CHAT) if "daily loss reached" in text]
    assert sent.startswith("Risk limit reached on ")
    assert sent.endswith(": daily loss reached\nLimit 100, now 120")


def test_telegrams_429_is_waited_out_and_the_message_sent_once(
    api: Api, notify: Notify, linked: tuple[str, str]
) -> None:
    _, account_id = linked
    link(api, notify)
    requests.post(
        f"{notify.url}/_sim/telegram/faults", json={"retryAfter": 1, "count": 1}, timeout=5
    ).raise_for_status()

    started = time.monotonic()
    api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER)
    notify.deliver()
    first = [text for text in notify.messages(CHAT) if text.startswith("Bought")]
    while not [text for text in notify.messages(CHAT) if text.startswith("Bought")]:
        assert time.monotonic() - started < 10
        notify.pollers[TELEGRAM_NOTIFIER].poll_once()
        time.sleep(0.1)

    assert first == []  # refused with 429 at first
    assert len([text for text in notify.messages(CHAT) if text.startswith("Bought")]) == 1
    assert time.monotonic() - started >= 1


def test_an_email_ses_refuses_does_not_stop_telegram_and_is_not_tried_again(
    api: Api, notify: Notify, linked: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, account_id = linked
    link(api, notify)
    fills_on_both_channels(api)
    monkeypatch.setenv("NOTIFICATION_SENDER", "not-verified@example.com")  # SES refuses this sender
    new_container()

    api.call("POST", f"{ACCOUNTS}/{account_id}/orders", user="alice", body=ORDER)
    notify.deliver()

    assert len([text for text in notify.messages(CHAT) if text.startswith("Bought")]) == 1
    assert sent_mail("alice@example.com") == []
    # Trying again cannot make SES take it: the delivery ends, nothing waits or goes to dead letters.
    email_queue = notify.subscriptions[EMAIL_NOTIFIER].queue_url
    counts = boto3.client("sqs").get_queue_attributes(
        QueueUrl=email_queue,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert counts == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
    # And the test message says why, in SES's words.
    [email] = [
        r
        for r in api.call("POST", f"{SETTINGS}/test", user="alice").body["results"]
        if r["channel"] == "email"
    ]
    assert email["sent"] is False
    assert (
        email["detail"]
        == "Email: SES rejected the message: Email address not verified not-verified@example.com"
    )


def test_halt_works_from_a_linked_chat_and_nothing_works_from_another(
    api: Api, notify: Notify, linked: tuple[str, str]
) -> None:
    _, account_id = linked
    link(api, notify)

    notify.say(OTHER_CHAT, "/halt")
    assert api.call("GET", f"{ACCOUNTS}/{account_id}", user="alice").body["tradingHalted"] is False
    assert notify.messages(OTHER_CHAT)
    assert "not linked" in notify.messages(OTHER_CHAT)[-1]

    notify.say(CHAT, "/halt")
    assert api.call("GET", f"{ACCOUNTS}/{account_id}", user="alice").body["tradingHalted"] is True
    assert notify.messages(CHAT)[-1].startswith("Halted: ")
    notify.say(CHAT, "/status")
    assert "halted" in notify.messages(CHAT)[-1]
    notify.say(CHAT, "/resume")
    assert api.call("GET", f"{ACCOUNTS}/{account_id}", user="alice").body["tradingHalted"] is False
    notify.say(CHAT, "/positions")
    notify.say(CHAT, "/help")
    assert "/halt [account]" in notify.messages(CHAT)[-1]


def test_the_webhook_refuses_a_caller_without_the_secret_token(
    api: Api, notify: Notify, linked: tuple[str, str]
) -> None:
    link(api, notify)

    assert notify.say(CHAT, "/halt", secret="guessed") == 401
    assert api.call("GET", f"{ACCOUNTS}/{linked[1]}", user="alice").body["tradingHalted"] is False


def test_a_test_message_reaches_each_enabled_channel(api: Api, notify: Notify) -> None:
    before = api.call("POST", f"{SETTINGS}/test", user="alice").body
    link(api, notify)
    api.call("PUT", SETTINGS, user="alice", body={"email": {"enabled": True, "address": "alice@example.com"}})

    after = api.call("POST", f"{SETTINGS}/test", user="alice").body

    assert before["results"] == [
        {"channel": "telegram", "sent": False, "detail": "no Telegram chat is linked"}
    ]
    assert [(r["channel"], r["sent"]) for r in after["results"]] == [("telegram", True), ("email", True)]
    assert "This is a test" in notify.messages(CHAT)[-1]
    assert sent_mail("alice@example.com")[-1]["subject"] == "Test notification"


def test_the_bot_token_and_chat_ids_never_reach_a_log_or_an_answer(
    api: Api, notify: Notify, linked: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    from mtcore.observability import logger

    lines = io.StringIO()
    shipped = logging.StreamHandler(lines)
    shipped.setFormatter(logger.registered_formatter)
    underlying = logging.getLogger(logger.name)
    underlying.addHandler(shipped)
    logger.setLevel("DEBUG")
    caplog.set_level(logging.INFO)
    try:
        answers = [api.call("POST", f"{SETTINGS}/telegram/link", user="alice").body]
        notify.say(CHAT, f"/start {answers[0]['code']}")
        answers.append(api.call("GET", SETTINGS, user="alice").body)
        answers.append(api.call("POST", f"{SETTINGS}/test", user="alice").body)
        api.call("POST", f"{ACCOUNTS}/{linked[1]}/orders", user="alice", body=ORDER)
        notify.deliver()
        notify.say(CHAT, "/status")
    finally:
        underlying.removeHandler(shipped)
    # Every record but the Telegram simulator's own access log (its paths are Telegram's).
    records = json.dumps([r.__dict__ for r in caplog.records if r.name != "werkzeug"], default=str)

    assert '"message":"notification sent"' in lines.getvalue()
    for where, text in {
        "answers": json.dumps(answers),
        "log lines": lines.getvalue(),
        "records": records,
    }.items():
        assert BOT_TOKEN not in text, where
        assert str(CHAT) not in text, where


def test_commands_and_links_from_a_group_chat_are_refused(
    api: Api, notify: Notify, linked: tuple[str, str]
) -> None:
    code = api.call("POST", f"{SETTINGS}/telegram/link", user="alice").body["code"]

    # In a group, every member could halt or resume the accounts of whoever linked it.
    notify.say(GROUP_CHAT, f"/start {code}", chat_type="supergroup")
    notify.say(GROUP_CHAT, "/halt", chat_type="group")

    assert api.call("GET", SETTINGS, user="alice").body["telegram"]["linked"] is False
    assert api.call("GET", f"{ACCOUNTS}/{linked[1]}", user="alice").body["tradingHalted"] is False
    assert all("private chat" in text for text in notify.messages(GROUP_CHAT))
    assert len(notify.messages(GROUP_CHAT)) == 2
    notify.say(CHAT, f"/start {code}")  # the code still works where it should
    assert "This chat is linked" in notify.messages(CHAT)[-1]


def test_a_chat_linked_by_another_user_leaves_the_first_and_an_old_unlink_touches_nothing(
    api: Api, notify: Notify
) -> None:
    link(api, notify, "alice")
    link(api, notify, "bob")  # the same chat, now bob's

    assert api.call("GET", SETTINGS, user="alice").body["telegram"]["linked"] is False
    assert api.call("GET", SETTINGS, user="bob").body["telegram"]["linked"] is True
    assert api.call("DELETE", f"{SETTINGS}/telegram", user="alice").status == 204
    assert api.call("GET", SETTINGS, user="bob").body["telegram"]["linked"] is True
    notify.say(CHAT, "/status")
    assert "not linked" not in notify.messages(CHAT)[-1]


def test_a_delivery_under_way_elsewhere_is_waited_for_then_taken_over_once_it_died(
    api: Api, notify: Notify, linked: tuple[str, str]
) -> None:
    from datetime import UTC, datetime, timedelta

    from mtcore.accounts import get_accounts_repository
    from mtcore.notifications.delivery import Notifier, get_recipients
    from mtcore.notifications.models import Channel
    from mtcore.notifications.telegram import get_telegram_bot
    from mtcore.redelivery import RetryLater

    link(api, notify)
    event = risk_breached(linked[1])
    event_id = str(event["id"])
    now = datetime.now(UTC)
    notifier = Notifier(
        channel=Channel.TELEGRAM,
        recipients=get_recipients(),
        accounts=get_accounts_repository(),
        bot=get_telegram_bot(),
        mailer=None,
        clock=lambda: now,
    )
    # Another invocation claimed it and is sending it (or died while sending it).
    assert notifier.recipients.notifications.claim_delivery(event_id, Channel.TELEGRAM, now).taken

    with pytest.raises(RetryLater) as waiting:
        notifier.deliver(event)
    assert 30 <= waiting.value.seconds <= 45
    assert [text for text in notify.messages(CHAT) if "daily loss" in text] == []
    later = dataclasses.replace(notifier, clock=lambda: now + timedelta(seconds=46))

    assert later.deliver(event) == "sent"
    assert later.deliver(event) == "already sent"
    assert len([text for text in notify.messages(CHAT) if "daily loss" in text]) == 1


def test_a_daily_summary_reaches_its_owner_once_after_the_brokers_day_ends(
    api: Api,
    notify: Notify,
    linked: tuple[str, str],
    simulator: Simulator,
    aws: LocalResources,
    template: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import UTC, datetime

    from botocore.exceptions import ClientError

    from infra.local.metaapi_sim.wire import BROKER_UTC_OFFSET, broker_day_end
    from mtcore.accounts import get_sync_schedule_repository
    from mtcore.notifications.repository import get_notifications_repository
    from mtcore.notifications.summary import DailySummaries
    from mtcore.trading import get_keyless_desk

    api.call("PUT", SETTINGS, user="alice", body={"email": {"enabled": True, "address": "alice@example.com"}})
    # Ten minutes into the broker's next day.
    day_ends = broker_day_end(simulator.sim._clock())
    monkeypatch.setattr(simulator.sim, "_clock", lambda: day_ends + 600)
    now = datetime.fromtimestamp(day_ends + 600, UTC)
    bus = function_environment(template, "functions.daily_summary.handler.lambda_handler", aws)[
        "EVENT_BUS_NAME"
    ]

    def summaries(bus_name: str) -> DailySummaries:
        return DailySummaries(
            schedule=get_sync_schedule_repository(),
            notifications=get_notifications_repository(),
            desk=get_keyless_desk(),
            events=boto3.client("events"),
            bus_name=bus_name,
        )

    # EventBridge refuses the first: the claim is given back, so the retry publishes it.
    with pytest.raises(ClientError, match="no-such-bus does not exist"):
        summaries("no-such-bus").run(now)
    assert summaries(bus).run(now) == 1
    assert summaries(bus).run(now) == 0  # a second tick in the same hour
    notify.deliver()

    [mail] = [m for m in sent_mail("alice@example.com") if ": day of " in m["subject"]]
    yesterday = datetime.fromtimestamp(day_ends - 600, UTC) + BROKER_UTC_OFFSET
    assert mail["subject"].endswith(f"day of {yesterday.date().isoformat()}")
    assert "0 trades closed" in mail["body"]


def test_a_record_handed_back_for_a_wait_is_reported_not_raised(
    api: Api, notify: Notify, linked: tuple[str, str]
) -> None:
    from datetime import UTC, datetime

    from functions.telegram_notifier.handler import lambda_handler
    from mtcore.notifications.models import Channel
    from mtcore.notifications.repository import get_notifications_repository

    link(api, notify)
    event = risk_breached(linked[1])
    # Another delivery is sending it: this one must wait, which is no failure of the invocation.
    assert (
        get_notifications_repository()
        .claim_delivery(str(event["id"]), Channel.TELEGRAM, datetime.now(UTC))
        .taken
    )
    subscription = notify.subscriptions[TELEGRAM_NOTIFIER]
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=subscription.queue_url, MessageBody=json.dumps(event))
    [message] = sqs.receive_message(QueueUrl=subscription.queue_url, AttributeNames=["All"])["Messages"]
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message["Attributes"],
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": subscription.queue_arn,
        "awsRegion": "us-east-1",
    }

    answer = lambda_handler(
        {"Records": [record]}, LambdaContext("n", time.monotonic() + 30, str(uuid.uuid4()))
    )

    assert answer == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    assert [text for text in notify.messages(CHAT) if "daily loss" in text] == []

"""Notifications: a rule puts every trade, account and summary event into one queue per channel
(Telegram, email), each consumed by its own notifier with partial batch failures and dead
letters, so a channel that keeps failing never holds up the other; the Telegram bot's webhook
function; the daily summaries on an hourly schedule; the bot's token and webhook secret; the SES
sender identity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from constructs import Construct

from infra.constructs.queues import queue_with_dead_letters
from infra.nag import accept
from mtcore.notifications.messages import NOTIFIED_DETAIL_TYPES
from mtcore.notifications.models import Channel
from mtcore.settings import Env

if TYPE_CHECKING:
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_sqs as sqs

    from infra.config import StageConfig
    from infra.constructs.function_factory import FunctionFactory

NOTIFIED_SOURCES = ["mt-backend.trades", "mt-backend.accounts", "mt-backend.notifications"]
NOTIFIER_TIMEOUT = Duration.seconds(30)
# A message Telegram keeps refusing (or SES) is tried this often, then kept aside with an alarm.
MAX_RECEIVE_COUNT = 8


class Notifications(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        functions: FunctionFactory,
        table: dynamodb.TableV2,
        bus: events.IEventBus,
        metaapi_environment: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.bot_token = secretsmanager.Secret(
            self,
            "TelegramBotToken",
            secret_name=f"mt-backend/{config.stage}/telegram/bot-token",
            description="The Telegram bot's token (from @BotFather); put in by the operator",
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.webhook_secret = secretsmanager.Secret(
            self,
            "TelegramWebhookSecret",
            secret_name=f"mt-backend/{config.stage}/telegram/webhook-secret",
            description="What Telegram sends as X-Telegram-Bot-Api-Secret-Token with each update",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=48
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        for secret, why in (
            (self.bot_token, "Telegram bot tokens are issued by @BotFather; no function can mint one."),
            (
                self.webhook_secret,
                "Rotating it means calling Telegram's setWebhook again with the new value.",
            ),
        ):
            accept(secret, "AwsSolutions-SMG4", why)
        self.sender = (
            ses.EmailIdentity(self, "Sender", identity=ses.Identity.email(config.notification_sender))
            if config.notification_sender
            else None
        )
        configured = {
            Env.NOTIFICATION_SENDER: config.notification_sender,
            Env.TELEGRAM_BOT_USERNAME: config.telegram_bot_username,
            Env.TELEGRAM_CHAT_ID: str(config.telegram_operator_chat_id or ""),
        }
        environment: dict[str, str] = {
            Env.TABLE_NAME: table.table_name,
            Env.TELEGRAM_BOT_TOKEN_SECRET_ID: self.bot_token.secret_arn,
            Env.TELEGRAM_WEBHOOK_SECRET_ID: self.webhook_secret.secret_arn,
            Env.OPERATOR_USER_IDS: ",".join(config.operator_user_ids),
            **{name: value for name, value in configured.items() if value},
        }
        self.environment = environment
        rule = events.Rule(
            self,
            "NotifiedEventsRule",
            description="Trade, account and summary events to each notification channel",
            event_bus=bus,
            # Only what can become a notification: balance changes and the like never reach a queue.
            event_pattern=events.EventPattern(
                source=NOTIFIED_SOURCES, detail_type=list(NOTIFIED_DETAIL_TYPES)
            ),
        )
        self.queues: dict[Channel, sqs.Queue] = {}
        self.dead_letters: dict[Channel, sqs.Queue] = {}
        self.notifiers: dict[Channel, lambda_.Function] = {}
        for channel in Channel:
            name = channel.value.title()
            queue, dead_letters = queue_with_dead_letters(
                self,
                f"{name}Notifications",
                f"{name}NotificationDeadLetters",
                visibility_timeout=Duration.seconds(NOTIFIER_TIMEOUT.to_seconds() * 2),
                max_receive_count=MAX_RECEIVE_COUNT,
            )
            rule.add_target(targets.SqsQueue(queue))
            notifier = functions.create(
                f"{name}NotifierFunction",
                handler=f"functions.{channel.value}_notifier.handler.lambda_handler",
                description=f"Sends notifications by {channel.value}",
                timeout=NOTIFIER_TIMEOUT,
                memory_size=256,
                environment=environment,
            )
            notifier.add_event_source(
                event_sources.SqsEventSource(queue, batch_size=10, report_batch_item_failures=True)
            )
            table.grant_read_write_data(notifier)  # preferences, chats, delivery markers
            self.queues[channel], self.dead_letters[channel], self.notifiers[channel] = (
                queue,
                dead_letters,
                notifier,
            )
        if self.sender is not None:
            self.sender.grant_send_email(self.notifiers[Channel.EMAIL])

        self.bot: lambda_.Function = functions.create(
            "TelegramBotFunction",
            handler="functions.telegram_bot.handler.lambda_handler",
            description="The Telegram bot's webhook: links chats and answers their commands",
            timeout=Duration.seconds(25),
            environment={**metaapi_environment, **environment},
        )
        self.summaries: lambda_.Function = functions.create(
            "DailySummaryFunction",
            handler="functions.daily_summary.handler.lambda_handler",
            description="Publishes each account's daily summary at its broker's day end",
            timeout=Duration.minutes(5),
            environment={**metaapi_environment, **environment, Env.EVENT_BUS_NAME: bus.event_bus_name},
        )
        events.Rule(
            self,
            "DailySummarySchedule",
            description="Runs the daily summaries",
            schedule=events.Schedule.rate(Duration.hours(1)),
            targets=[targets.LambdaFunction(self.summaries, retry_attempts=2)],
        )
        bus.grant_put_events_to(self.summaries)
        for function in (self.bot, self.notifiers[Channel.TELEGRAM]):
            self.bot_token.grant_read(function)
        self.webhook_secret.grant_read(self.bot)

    def grant_test_messages(self, function: lambda_.IFunction) -> None:
        """What sending a test message takes (the API's POST /settings/notifications/test)."""
        self.bot_token.grant_read(function)
        if self.sender is not None:
            self.sender.grant_send_email(function)

"""One event to one channel of its owner: Telegram or email, as the owner's preferences say.

Each event reaches each channel once: the delivery is claimed before it is sent (a redelivered
batch finds it sent, or waits while another delivery sends it), released when the send failed so
a redelivery tries again; a channel's permanent refusal ends it. Telegram's 429
hands the message back for its `retry_after`; a channel that keeps failing ends in its queue's
dead letters, never holding up the other channel, which has a queue of its own."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from mtcore.accounts import get_accounts_repository
from mtcore.notifications.email import get_mailer
from mtcore.notifications.errors import NotSent
from mtcore.notifications.messages import Message, kind_of, message_of
from mtcore.notifications.models import Channel, Preferences
from mtcore.notifications.repository import get_notifications_repository
from mtcore.notifications.telegram import TelegramError, TelegramRateLimited, get_telegram_bot
from mtcore.observability import logger, metrics
from mtcore.redelivery import HandBackByArn, RetryLater, delivered
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from mtcore.accounts import AccountsRepository
    from mtcore.notifications.email import Mailer
    from mtcore.notifications.repository import NotificationsRepository
    from mtcore.notifications.telegram import TelegramBot


@dataclass
class Recipients:
    """Where a user's messages go on each channel."""

    notifications: NotificationsRepository
    # Single-operator deployments: the operator's chat, for operators who linked none.
    operator_chat: int | None = None
    operators: frozenset[str] = frozenset()

    def chat_of(self, user_id: str) -> int | None:
        chat = self.notifications.chat_of(user_id)
        if chat is None and user_id in self.operators:
            return self.operator_chat
        return chat

    def user_of(self, chat_id: int) -> str | None:
        """Whose commands a chat sends: its linker's; the operator's chat speaks for the operator
        of a single-operator deployment, when there is exactly one."""
        user_id = self.notifications.user_of(chat_id)
        if user_id is None and chat_id == self.operator_chat and len(self.operators) == 1:
            [operator] = self.operators
            return operator
        return user_id

    def target(self, user_id: str, channel: Channel, preferences: Preferences) -> int | str | None:
        if channel is Channel.TELEGRAM:
            return self.chat_of(user_id)
        return preferences.email.address


def send(
    channel: Channel, target: int | str, message: Message, *, bot: TelegramBot | None, mailer: Mailer | None
) -> str:
    """Send it; answers what the channel said."""
    if channel is Channel.TELEGRAM:
        if bot is None:
            raise TelegramError("no Telegram bot token is configured", permanent=True)
        bot.send(int(target), message.text)
        return "sent to the linked Telegram chat"
    if mailer is None:
        raise NotSent("no email sender is configured", permanent=True)
    message_id = mailer.send(str(target), message)
    return f"sent by email (message {message_id})"


@dataclass
class Notifier:
    channel: Channel
    recipients: Recipients
    accounts: AccountsRepository
    bot: TelegramBot | None
    mailer: Mailer | None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def deliver(self, event: dict[str, Any]) -> str:
        """Deliver one bus event on this notifier's channel; answers what became of it."""
        detail: dict[str, Any] = event.get("detail") or {}
        kind = kind_of(str(event.get("detail-type", "")), detail)
        owner = detail.get("userId")
        if kind is None or not isinstance(owner, str):
            return "not a notification"
        notifications = self.recipients.notifications
        preferences = notifications.preferences(owner)
        if self.channel not in preferences.channels_for(kind):
            return f"{kind.value} is off on {self.channel.value}"
        target = self.recipients.target(owner, self.channel, preferences)
        if target is None:
            return f"no {self.channel.value} destination"
        account = self.accounts.find(owner, str(detail.get("accountId", "")))
        message = message_of(
            kind,
            detail,
            account=account.name if account else "your account",
            currency=account.currency if account else detail.get("currency"),
        )
        event_id, now = str(event["id"]), self.clock()
        claim = notifications.claim_delivery(event_id, self.channel, now)
        if claim.stuck_at is not None:
            # Being sent by another delivery: look again once it has ended, or died.
            wait = max(1.0, (claim.stuck_at - now).total_seconds())
            raise RetryLater(wait, "another delivery is sending it")
        if not claim.taken:
            return "already sent"
        try:
            send(self.channel, target, message, bot=self.bot, mailer=self.mailer)
        except TelegramRateLimited as limited:
            notifications.release(event_id, self.channel)
            raise RetryLater(limited.retry_after_seconds, "Telegram's rate limit") from None
        except NotSent as refused:
            if not refused.permanent:
                notifications.release(event_id, self.channel)
                raise
            # A chat that blocked the bot, an address SES refuses: trying again cannot help.
            notifications.delivered(event_id, self.channel)
            logger.warning(
                "a channel refused a message",
                extra={"kind": kind.value, "channel": self.channel.value, "why": refused.description},
            )
            return f"refused on {self.channel.value}"
        except Exception:
            notifications.release(event_id, self.channel)
            raise
        notifications.delivered(event_id, self.channel)
        logger.info("notification sent", extra={"kind": kind.value, "channel": self.channel.value})
        return "sent"


def get_recipients() -> Recipients:
    settings = get_settings()
    return Recipients(
        get_notifications_repository(),
        operator_chat=settings.telegram_chat_id,
        operators=settings.operator_user_ids,
    )


def deliver_batch(
    channel: Channel, event: dict[str, Any], context: LambdaContext
) -> PartialItemFailureResponse:
    """A notifier's batch: each record delivered on `channel`; a record handed back for a wait is
    reported failed, which is no error of the invocation (no alarm for Telegram's 429)."""
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> None:
        deliver_record(
            channel, record.body, receipt_handle=record.receipt_handle, queue_arn=record.event_source_arn
        )

    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


def deliver_record(channel: Channel, body: str, *, receipt_handle: str, queue_arn: str) -> None:
    """One queue record of a notifier: the event delivered on `channel`, or handed back to its
    queue for Telegram's `retry_after`."""
    notifier = Notifier(
        channel=channel,
        recipients=get_recipients(),
        accounts=get_accounts_repository(),
        bot=get_telegram_bot() if channel is Channel.TELEGRAM else None,
        mailer=get_mailer() if channel is Channel.EMAIL else None,
    )
    outcome = delivered(
        receipt_handle,
        HandBackByArn(queue_arn),
        lambda: notifier.deliver(json.loads(body)),
    )
    if outcome == "sent":
        metrics.add_metric(name=f"Notifications{channel.value.title()}Sent", unit=MetricUnit.Count, value=1)

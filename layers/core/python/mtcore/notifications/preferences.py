"""The notification settings a user changes: preferences, the Telegram link, a test message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from mtcore.errors import Conflict, InvalidInput
from mtcore.notifications.delivery import Recipients, get_recipients, send
from mtcore.notifications.email import get_mailer
from mtcore.notifications.errors import NotSent
from mtcore.notifications.messages import TEST_MESSAGE
from mtcore.notifications.models import (
    Channel,
    ChannelResult,
    Preferences,
    PreferencesChange,
    TelegramLink,
    TestResult,
)
from mtcore.notifications.repository import get_notifications_repository
from mtcore.notifications.telegram import get_telegram_bot
from mtcore.observability import logger
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from mtcore.notifications.email import Mailer
    from mtcore.notifications.repository import NotificationsRepository
    from mtcore.notifications.telegram import TelegramBot


class TelegramNotConfigured(Conflict):
    code = "TELEGRAM_NOT_CONFIGURED"


@dataclass
class NotificationSettings:
    notifications: NotificationsRepository
    recipients: Recipients
    bot_username: str | None
    # Asked for only when a test message is sent: no route else reads the bot's token.
    bot: Callable[[], TelegramBot | None] = get_telegram_bot
    mailer: Callable[[], Mailer | None] = get_mailer

    def get(self, user_id: str) -> Preferences:
        return self._shown(user_id, self.notifications.preferences(user_id))

    def change(self, user_id: str, change: PreferencesChange) -> Preferences:
        current = self.notifications.preferences(user_id)
        telegram = current.telegram.model_copy(update=_given(change.telegram))
        email = current.email.model_copy(update=_given(change.email))
        events = {**current.events, **(change.events or {})}
        if email.enabled and not email.address:
            raise InvalidInput("body.email.address", "is needed to enable email")
        changed = Preferences(telegram=telegram, email=email, events=events)
        self.notifications.save(user_id, changed)
        return self._shown(user_id, changed)

    def _shown(self, user_id: str, preferences: Preferences) -> Preferences:
        """As the user sees them: with whether a Telegram chat is linked."""
        linked = self.recipients.chat_of(user_id) is not None
        return preferences.model_copy(
            update={"telegram": preferences.telegram.model_copy(update={"linked": linked})}
        )

    def link_telegram(self, user_id: str) -> TelegramLink:
        if not self.bot_username:
            raise TelegramNotConfigured("This deployment has no Telegram bot")
        code, expires = self.notifications.new_code(user_id, datetime.now(UTC))
        return TelegramLink(
            code=code, link=f"https://t.me/{self.bot_username}?start={code}", expires_at=expires
        )

    def unlink_telegram(self, user_id: str) -> None:
        self.notifications.unbind(user_id)

    def test(self, user_id: str) -> TestResult:
        """A test message on each enabled channel, and what each said."""
        preferences = self.notifications.preferences(user_id)
        bot, mailer = self.bot(), self.mailer()
        results = []
        for channel, enabled in (
            (Channel.TELEGRAM, preferences.telegram.enabled),
            (Channel.EMAIL, preferences.email.enabled),
        ):
            if not enabled:
                continue
            target = self.recipients.target(user_id, channel, preferences)
            if target is None:
                why = (
                    "no Telegram chat is linked" if channel is Channel.TELEGRAM else "no email address is set"
                )
                results.append(ChannelResult(channel=channel, sent=False, detail=why))
                continue
            try:
                said = send(channel, target, TEST_MESSAGE, bot=bot, mailer=mailer)
            except NotSent as refused:
                detail = f"{channel.value.title()}: {refused.description}"
                results.append(ChannelResult(channel=channel, sent=False, detail=detail))
            except Exception:
                logger.exception("a test notification failed", extra={"channel": channel.value})
                detail = f"{channel.value.title()} could not be reached: try again in a minute"
                results.append(ChannelResult(channel=channel, sent=False, detail=detail))
            else:
                results.append(ChannelResult(channel=channel, sent=True, detail=said))
        return TestResult(results=results)


def _given(change: BaseModel | None) -> dict[str, Any]:
    """The fields a change sent (null included: "not given" is a field left out)."""
    return {} if change is None else change.model_dump(exclude_unset=True)


def get_notification_settings() -> NotificationSettings:
    return NotificationSettings(
        notifications=get_notifications_repository(),
        recipients=get_recipients(),
        bot_username=get_settings().telegram_bot_username,
    )

"""A message a channel did not take."""

from __future__ import annotations


class NotSent(Exception):
    """The channel did not take the message; `permanent` when trying again cannot help (a chat
    that blocked the bot, an address SES refuses, no sender configured). `description` is what
    the channel said, fit to show the person who owns the destination."""

    def __init__(self, description: str, *, permanent: bool) -> None:
        super().__init__(description)
        self.description = description
        self.permanent = permanent

"""Email through SES: a plain-text and an HTML part, from the stage's sender identity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mtcore.aws import ses_client
from mtcore.notifications.errors import NotSent
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from mypy_boto3_ses import SESClient

    from mtcore.notifications.messages import Message


class Mailer:
    def __init__(self, client: SESClient, sender: str) -> None:
        self._client = client
        self._sender = sender

    def send(self, address: str, message: Message) -> str:
        """Answers SES's message id; NotSent when SES does not take it."""
        try:
            answer = self._client.send_email(
                Source=self._sender,
                Destination={"ToAddresses": [address]},
                Message={
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": message.text, "Charset": "UTF-8"},
                        "Html": {"Data": message.html, "Charset": "UTF-8"},
                    },
                },
            )
        except self._client.exceptions.MessageRejected as rejected:
            raise NotSent(f"SES rejected the message: {_said(rejected)}", permanent=True) from None
        except self._client.exceptions.MailFromDomainNotVerifiedException:
            raise NotSent("the sender's domain is not verified with SES", permanent=True) from None
        except self._client.exceptions.AccountSendingPausedException:
            raise NotSent("sending is paused for this AWS account", permanent=True) from None
        return answer["MessageId"]


def _said(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message") or "no reason given")


def get_mailer() -> Mailer | None:
    """The mailer, or None where no sender is configured (email then sends nothing)."""
    sender = get_settings().notification_sender
    return Mailer(ses_client(), sender) if sender else None

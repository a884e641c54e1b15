"""The mail the local stack sent through SES, read from moto's SES backend (in this process):
what `GET /_local/mail` answers (the local gateway's route; it only exists here)."""

from __future__ import annotations

from typing import Any

# moto's default account; the local stack's one region.
_ACCOUNT, _REGION = "123456789012", "us-east-1"


def sent_mail(to: str | None = None) -> list[dict[str, Any]]:
    """Every message SES took, oldest first (to one address when `to` is given). moto keeps one
    part of each: the HTML one."""
    from moto.ses.models import ses_backends

    messages = ses_backends[_ACCOUNT][_REGION].sent_messages
    found = []
    for message in messages:
        recipients = [address for addresses in message.destinations.values() for address in addresses]
        if to is None or to in recipients:
            found.append(
                {
                    "id": message.id,
                    "from": message.source,
                    "to": recipients,
                    "subject": message.subject,
                    "body": message.body,
                }
            )
    return found

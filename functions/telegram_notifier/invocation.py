"""One batch of bus events, each delivered to its owner by telegram, once (see
`mtcore.notifications.delivery`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mtcore.notifications.delivery import deliver_batch
from mtcore.notifications.models import Channel

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext


def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return deliver_batch(Channel.TELEGRAM, event, context)

"""The FIFO order queue: one message group per account (its trades run in order, and one
account's trouble never holds another's), deduplicated by trade request id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mtcore.aws import sqs_client
from mtcore.models import CamelModel
from mtcore.redelivery import QueueHandBack
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from datetime import datetime

    from mtcore.trading.models import TradeRequest


class TradeMessage(CamelModel):
    account_id: str
    trade_id: str


class TradeQueue(QueueHandBack):
    def send(self, request: TradeRequest) -> bool:
        """Queue the request's message; False when SQS could not be reached or refused it (after
        the client's own retries, which the deduplication id makes safe)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._send(request)
        except (BotoCoreError, ClientError):
            return False
        return True

    def _send(self, request: TradeRequest) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=TradeMessage(account_id=request.account_id, trade_id=request.id).model_dump_json(),
            MessageGroupId=request.account_id,
            # Never a caller's key: one message per trade request, however often it is sent.
            MessageDeduplicationId=request.id,
        )

    def send_all(self, requests: list[TradeRequest]) -> bool:
        """Queue each request's message, ten a call, in order; False when any was not queued (the
        sweeper sends those)."""
        from botocore.exceptions import BotoCoreError, ClientError

        sent = True
        for start in range(0, len(requests), 10):
            entries = [
                {
                    "Id": str(number),
                    "MessageBody": TradeMessage(
                        account_id=request.account_id, trade_id=request.id
                    ).model_dump_json(),
                    "MessageGroupId": request.account_id,
                    "MessageDeduplicationId": request.id,
                }
                for number, request in enumerate(requests[start : start + 10])
            ]
            try:
                answer = self._client.send_message_batch(QueueUrl=self._queue_url, Entries=entries)  # type: ignore[arg-type]
            except (BotoCoreError, ClientError):
                sent = False
                continue
            sent = sent and not answer.get("Failed")
        return sent

    def send_again(self, request: TradeRequest, at: datetime) -> None:
        """A new message for a request whose message is gone; a duplicate delivery is harmless
        (the executor acts on the request's status), a lost one is not."""
        # A new message each time (to the microsecond): a request handed back twice in one
        # second, as a signal behind each batch of its children is, must not be dropped.
        self.hand_back(request.account_id, request.id, at)

    def hand_back(self, account_id: str, trade_id: str, at: datetime) -> None:
        """The request's message again, once per `at`: the same hand-back sent twice is one."""
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=TradeMessage(account_id=account_id, trade_id=trade_id).model_dump_json(),
            MessageGroupId=account_id,
            MessageDeduplicationId=f"{trade_id}-{int(at.timestamp() * 1_000_000)}",
        )


def get_trade_queue() -> TradeQueue:
    queue_url = get_settings().trade_queue_url
    if not queue_url:
        raise RuntimeError("TRADE_QUEUE_URL is not configured")
    return TradeQueue(sqs_client(), queue_url)

"""A queue with its dead-letter queue, as every pipeline here wants it: encrypted, TLS only, the
dead letters kept 14 days and acknowledged to cdk-nag as what they are."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.nag import accept

DEAD_LETTERS_KEPT = Duration.days(14)


def queue_with_dead_letters(
    scope: Construct,
    queue_id: str,
    dead_letters_id: str,
    *,
    visibility_timeout: Duration,
    max_receive_count: int,
    fifo: bool = False,
) -> tuple[sqs.Queue, sqs.Queue]:
    """The queue and its dead-letter queue. A FIFO queue deduplicates by the id each message
    carries, never by its content."""
    dead_letters = sqs.Queue(
        scope,
        dead_letters_id,
        visibility_timeout=visibility_timeout,
        retention_period=DEAD_LETTERS_KEPT,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        fifo=fifo or None,
    )
    accept(dead_letters, "AwsSolutions-SQS3", f"This is the dead-letter queue of {queue_id}.")
    queue = sqs.Queue(
        scope,
        queue_id,
        visibility_timeout=visibility_timeout,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=max_receive_count, queue=dead_letters),
        fifo=fifo or None,
        content_based_deduplication=False if fifo else None,
    )
    return queue, dead_letters

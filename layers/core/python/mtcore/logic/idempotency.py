"""At most one trade request per Idempotency-Key, scoped by tenant and route, for 24 hours.

Powertools idempotency over its own table: a repeat with the same body answers the first
request; the same key with another body is refused; a repeat that arrives while the first is
still being created is told so instead of creating a second one."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from mtcore.aws import dynamodb_client
from mtcore.errors import Conflict, InvalidInput
from mtcore.models import CamelModel
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

KEEP_SECONDS = 24 * 3600
KEY_FIELD = "header.Idempotency-Key"


class Accepted(CamelModel):
    """What is remembered for a key: which trade request the first call created."""

    account_id: str
    trade_id: str


@lru_cache(maxsize=1)
def _remembered() -> tuple[Callable[..., Accepted], Any]:
    # Built on first use: Powertools' idempotency is not needed by calls without a key.
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.persistence.dynamodb import DynamoDBPersistenceLayer
    from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

    table = get_settings().idempotency_table_name
    if not table:
        raise RuntimeError("IDEMPOTENCY_TABLE_NAME is not configured")
    config = IdempotencyConfig(
        event_key_jmespath="[tenant, route, key]",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=KEEP_SECONDS,
    )

    @idempotent_function(  # type: ignore[untyped-decorator]  # Powertools' decorator has no annotations
        data_keyword_argument="call",
        config=config,
        persistence_store=DynamoDBPersistenceLayer(table_name=table, boto3_client=dynamodb_client()),
        output_serializer=PydanticSerializer(Accepted),
    )
    def accept(*, call: dict[str, Any], create: Callable[[], Accepted]) -> Accepted:
        return create()

    return accept, config


def once(
    *,
    tenant: str,
    route: str,
    key: str | None,
    body: dict[str, Any],
    create: Callable[[], Accepted],
    context: LambdaContext | None,
) -> Accepted:
    """`create()` once per (tenant, route, key); without a key, every call creates."""
    if key is None:
        return create()
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    accept, config = _remembered()
    if context is not None:
        # A crashed call frees its key when its invocation would have timed out, not in 24 h.
        config.register_lambda_context(context)
    try:
        return accept(call={"tenant": tenant, "route": route, "key": key, "body": body}, create=create)
    except IdempotencyValidationError:
        raise InvalidInput(KEY_FIELD, "was already used with a different request body") from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry shortly"
        ) from None

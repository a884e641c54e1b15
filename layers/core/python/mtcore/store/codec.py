"""DynamoDB attribute-value encoding. Numbers are Decimal both ways; floats are refused."""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer


@lru_cache(maxsize=1)
def _codec() -> tuple[TypeSerializer, TypeDeserializer]:
    # Imported on first use: importing boto3.dynamodb loads all of boto3.
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def plain(value: Any) -> Any:
    """A value as DynamoDB stores it: models as maps without their unset fields, times as ISO
    text, numbers as Decimal (as models hold them)."""
    if isinstance(value, BaseModel):
        return plain(value.model_dump(mode="python", by_alias=True, exclude_none=True))
    if isinstance(value, datetime | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {name: plain(item) for name, item in value.items() if item is not None}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def to_item(plain: dict[str, Any]) -> dict[str, Any]:
    serializer, _ = _codec()
    return {name: serializer.serialize(value) for name, value in plain.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    _, deserializer = _codec()
    return {name: deserializer.deserialize(value) for name, value in item.items()}

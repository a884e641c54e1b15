"""DynamoDB attribute-value encoding. Numbers are Decimal both ways; floats are refused."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer


@lru_cache(maxsize=1)
def _codec() -> tuple[TypeSerializer, TypeDeserializer]:
    # Imported on first use: importing boto3.dynamodb loads all of boto3.
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def to_item(plain: dict[str, Any]) -> dict[str, Any]:
    serializer, _ = _codec()
    return {name: serializer.serialize(value) for name, value in plain.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    _, deserializer = _codec()
    return {name: deserializer.deserialize(value) for name, value in item.items()}

"""The base of every model that travels as JSON (MetaApi's camelCase names) and its decimal type."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    """Base for models that travel as JSON: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True, defer_build=True
    )


# Decimal in Python and DynamoDB (a float 0.29 floors to 0.28 lots); a JSON number on the wire,
# as MetaApi sends it. Values carry at most 15 significant digits, so the number text is exact.
JsonDecimal = Annotated[
    Decimal,
    PlainSerializer(float, return_type=float, when_used="json"),
    WithJsonSchema({"type": "number"}),
]
Money = Annotated[JsonDecimal, Field(description="Amount in the account currency")]

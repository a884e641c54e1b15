"""Opaque page tokens over DynamoDB's LastEvaluatedKey, bound to the partition they came from."""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING

from mtcore.errors import InvalidInput

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

TOKEN_FIELD = "query.nextToken"  # noqa: S105 - a field name, not a secret


def encode_token(last_key: dict[str, AttributeValueTypeDef] | None) -> str | None:
    if not last_key:
        return None
    plain = {name: value["S"] for name, value in last_key.items() if "S" in value}
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str | None, *, expected_pk: str) -> dict[str, AttributeValueTypeDef] | None:
    """The start key a token stands for; refuses tokens from another partition (another tenant)."""
    if token is None:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        plain = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidInput(TOKEN_FIELD, "is not a token this API issued") from None
    if not isinstance(plain, dict) or plain.get("pk") != expected_pk or not isinstance(plain.get("sk"), str):
        raise InvalidInput(TOKEN_FIELD, "is not a token this API issued")
    return {"pk": {"S": expected_pk}, "sk": {"S": plain["sk"]}}

from __future__ import annotations

from typing import Any

import pytest

from mtcore.errors import InvalidInput
from mtcore.store.pagination import decode_token, encode_token


def test_token_round_trips_for_its_own_partition() -> None:
    last_key: dict[str, Any] = {"pk": {"S": "USER#alice"}, "sk": {"S": "ACCOUNT#01J"}}

    token = encode_token(last_key)

    assert token is not None
    assert decode_token(token, expected_pk="USER#alice") == last_key


def test_no_more_pages_means_no_token() -> None:
    assert encode_token(None) is None
    assert encode_token({}) is None
    assert decode_token(None, expected_pk="USER#alice") is None


def test_another_tenants_token_is_refused() -> None:
    alices = encode_token({"pk": {"S": "USER#alice"}, "sk": {"S": "ACCOUNT#01J"}})

    with pytest.raises(InvalidInput) as raised:
        decode_token(alices, expected_pk="USER#bob")

    assert raised.value.details is not None
    assert raised.value.details[0].field == "query.nextToken"


@pytest.mark.parametrize("garbage", ["zzz", "!!!", "bnVsbA", "eyJwayI6IDF9", "W10"])
def test_garbage_is_refused_not_crashed_on(garbage: str) -> None:
    with pytest.raises(InvalidInput):
        decode_token(garbage, expected_pk="USER#alice")

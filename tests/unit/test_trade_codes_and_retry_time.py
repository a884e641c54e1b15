from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mtcore.metaapi.models import TradeResult
from mtcore.metaapi.retry_time import retry_after_seconds
from mtcore.metaapi.trade_codes import TradeOutcome, classify

NOW = datetime(2026, 11, 22, 8, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("numeric", "name"),
    [
        (0, "ERR_NO_ERROR"),
        (10008, "TRADE_RETCODE_PLACED"),
        (10009, "TRADE_RETCODE_DONE"),
        (10010, "TRADE_RETCODE_DONE_PARTIAL"),
        (10025, "TRADE_RETCODE_NO_CHANGES"),
    ],
)
def test_success_codes(numeric: int, name: str) -> None:
    assert classify(numeric, name) is TradeOutcome.SUCCESS
    assert classify(numeric, None) is TradeOutcome.SUCCESS


@pytest.mark.parametrize(
    ("numeric", "name"),
    [
        (10004, "TRADE_RETCODE_REQUOTE"),
        (10020, "TRADE_RETCODE_PRICE_CHANGED"),
        (10021, "TRADE_RETCODE_PRICE_OFF"),
        (10031, "TRADE_RETCODE_CONNECTION"),
        (10024, "TRADE_RETCODE_TOO_MANY_REQUESTS"),
        (10028, "TRADE_RETCODE_LOCKED"),
        (-10, "TRADE_RETCODE_DISCONNECTED_BEFORE_TRADE"),
        (-6, "ERR_NO_QUOTES"),
        (-5, "ERR_NOT_SYNCHRONIZED"),
        (138, "ERR_REQUOTE"),
        (135, "ERR_PRICE_CHANGED"),
        (4, "ERR_SERVER_BUSY"),
        (137, "ERR_BROKER_BUSY"),
        (146, "ERR_TRADE_CONTEXT_BUSY"),
        (6, "ERR_NO_CONNECTION"),
        (8, "ERR_TOO_FREQUENT_REQUESTS"),
        (141, "ERR_TOO_MANY_REQUESTS"),
    ],
)
def test_retryable_codes(numeric: int, name: str) -> None:
    assert classify(numeric, name) is TradeOutcome.RETRYABLE
    assert classify(numeric, None) is TradeOutcome.RETRYABLE


@pytest.mark.parametrize(
    ("numeric", "name"),
    [
        (-11, "TRADE_RETCODE_DISCONNECTED_DURING_TRADE"),
        (-7, "ERR_TRADE_TIMED_OUT"),
        (10012, "TRADE_RETCODE_TIMEOUT"),
        (128, "ERR_TRADE_TIMEOUT"),
        (1, "ERR_NO_RESULT"),
        (-1, "TRADE_RETCODE_UNKNOWN"),
        (10011, "TRADE_RETCODE_ERROR"),
        (136, "ERR_OFF_QUOTES"),
    ],
)
def test_outcome_unknown_codes(numeric: int, name: str) -> None:
    assert classify(numeric, name) is TradeOutcome.OUTCOME_UNKNOWN
    assert classify(numeric, None) is TradeOutcome.OUTCOME_UNKNOWN


@pytest.mark.parametrize(
    ("numeric", "name"),
    [
        (10014, "TRADE_RETCODE_INVALID_VOLUME"),
        (10015, "TRADE_RETCODE_INVALID_PRICE"),
        (10016, "TRADE_RETCODE_INVALID_STOPS"),
        (10018, "TRADE_RETCODE_MARKET_CLOSED"),
        (10019, "TRADE_RETCODE_NO_MONEY"),
        (10017, "TRADE_RETCODE_TRADE_DISABLED"),
        (-8, "ERR_INVESTOR"),
        (10027, "TRADE_RETCODE_CLIENT_DISABLES_AT"),
        (10034, "TRADE_RETCODE_LIMIT_VOLUME"),
        (4753, "ERR_TRADE_POSITION_NOT_FOUND"),
        (4754, "ERR_TRADE_ORDER_NOT_FOUND"),
        (130, "ERR_INVALID_STOPS"),
        (134, "ERR_NOT_ENOUGH_MONEY"),
        (64, "ERR_ACCOUNT_DISABLED"),
        (-4, "TRADE_RETCODE_ORDER_TYPE_NOT_SUPPORTED"),
    ],
)
def test_final_codes(numeric: int, name: str) -> None:
    assert classify(numeric, name) is TradeOutcome.FINAL
    assert classify(numeric, None) is TradeOutcome.FINAL


def test_the_string_code_wins_over_a_reused_number_and_silence_is_unknown() -> None:
    # 4 is MT4's ERR_SERVER_BUSY; an unknown name with it is still judged by its name.
    assert classify(4, "SOMETHING_NEW") is TradeOutcome.FINAL
    assert classify(None, None) is TradeOutcome.OUTCOME_UNKNOWN


def test_a_trade_result_knows_its_outcome() -> None:
    result = TradeResult.model_validate({"numericCode": 10004, "stringCode": "TRADE_RETCODE_REQUOTE"})

    assert result.outcome is TradeOutcome.RETRYABLE


@pytest.mark.parametrize(
    "metadata",
    [
        {"periodInSeconds": 60, "creditsAvailable": 0, "recommendedRetryTime": "2026-11-22T08:00:12.000Z"},
        {
            "total": 1000,
            "available": 0,
            "needed": 10,
            "exceededConfig": "perUser",
            "exceededPeriod": "1s",
            "recommendedRetryTime": "2026-11-22T08:00:12Z",
        },
        {
            "periodInMinutes": 60,
            "maxRequestsForPeriod": 18000,
            "type": "LIMIT_REQUEST_RATE_PER_USER",
            "recommendedRetryTime": "2026-11-22T08:00:12.000+00:00",
        },
    ],
)
def test_recommended_retry_time_in_every_metadata_shape(metadata: dict[str, object]) -> None:
    assert retry_after_seconds({"metadata": metadata}, None, now=NOW) == pytest.approx(12)
    assert retry_after_seconds({"metadata": metadata}, "3", now=NOW) == pytest.approx(12)


def test_with_both_hints_the_later_one_wins() -> None:
    # e.g. MetaApi's clock behind ours: its absolute time is already past, its header is not.
    body = {"metadata": {"recommendedRetryTime": "2026-11-22T07:59:00Z"}}

    assert retry_after_seconds(body, "40", now=NOW) == 40


def test_retry_after_header_in_seconds_or_as_a_date() -> None:
    assert retry_after_seconds({}, "7", now=NOW) == 7
    assert retry_after_seconds(None, "Sun, 22 Nov 2026 08:00:30 GMT", now=NOW) == 30


def test_no_hint_past_times_and_garbage() -> None:
    assert retry_after_seconds({}, None, now=NOW) is None
    assert (
        retry_after_seconds({"metadata": {"recommendedRetryTime": "2026-11-22T07:59:00Z"}}, None, now=NOW)
        == 0
    )
    assert retry_after_seconds({"metadata": {"recommendedRetryTime": "soon"}}, "later", now=NOW) is None

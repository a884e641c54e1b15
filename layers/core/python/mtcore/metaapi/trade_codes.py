"""What a trade answer means. MetaApi documents only success vs error; which errors are worth
a retry, and which leave the outcome unknown, follows the MT4/MT5 code tables."""

from __future__ import annotations

from enum import StrEnum


class TradeOutcome(StrEnum):
    SUCCESS = "success"
    RETRYABLE = "retryable"  # not executed; the same request may be sent again after a pause
    OUTCOME_UNKNOWN = "outcome_unknown"  # may have executed: reconcile by clientId before anything else
    FINAL = "final"  # refused; sending it unchanged will be refused again


SUCCESS_CODES = frozenset({0, 10008, 10009, 10010, 10025})
SUCCESS_NAMES = frozenset(
    {
        "ERR_NO_ERROR",
        "TRADE_RETCODE_PLACED",
        "TRADE_RETCODE_DONE",
        "TRADE_RETCODE_DONE_PARTIAL",
        "TRADE_RETCODE_NO_CHANGES",
    }
)
RETRYABLE_NAMES = frozenset(
    {
        "TRADE_RETCODE_REQUOTE",
        "TRADE_RETCODE_PRICE_CHANGED",
        "TRADE_RETCODE_PRICE_OFF",
        "TRADE_RETCODE_CONNECTION",
        "TRADE_RETCODE_TOO_MANY_REQUESTS",
        "TRADE_RETCODE_LOCKED",
        "TRADE_RETCODE_DISCONNECTED_BEFORE_TRADE",
        "ERR_NO_QUOTES",
        "ERR_NOT_SYNCHRONIZED",
        "ERR_REQUOTE",
        "ERR_PRICE_CHANGED",
        "ERR_SERVER_BUSY",
        "ERR_BROKER_BUSY",
        "ERR_TRADE_CONTEXT_BUSY",
        "ERR_NO_CONNECTION",
        "ERR_TOO_FREQUENT_REQUESTS",
        "ERR_TOO_MANY_REQUESTS",
    }
)
# ERR_OFF_QUOTES is here, not with the retryable ones: trades have been seen to open despite it.
OUTCOME_UNKNOWN_NAMES = frozenset(
    {
        "TRADE_RETCODE_DISCONNECTED_DURING_TRADE",
        "ERR_TRADE_TIMED_OUT",
        "TRADE_RETCODE_TIMEOUT",
        "ERR_TRADE_TIMEOUT",
        "ERR_NO_RESULT",
        "TRADE_RETCODE_UNKNOWN",
        "TRADE_RETCODE_ERROR",
        "ERR_OFF_QUOTES",
    }
)
# The same families by number, for answers that carry only the numeric code.
RETRYABLE_CODES = frozenset(
    {10004, 10020, 10021, 10031, 10024, 10028, -10, -6, -5, 138, 135, 4, 137, 146, 6, 8, 141}
)
OUTCOME_UNKNOWN_CODES = frozenset({-11, -7, 10012, 128, 1, -1, 10011, 136})


def classify(numeric_code: int | None, string_code: str | None) -> TradeOutcome:
    """The string code decides when present (MT4 and MT5 reuse numbers); else the number does."""
    if string_code:
        if string_code in SUCCESS_NAMES:
            return TradeOutcome.SUCCESS
        if string_code in RETRYABLE_NAMES:
            return TradeOutcome.RETRYABLE
        if string_code in OUTCOME_UNKNOWN_NAMES:
            return TradeOutcome.OUTCOME_UNKNOWN
        return TradeOutcome.FINAL
    if numeric_code is None:
        return TradeOutcome.OUTCOME_UNKNOWN
    if numeric_code in SUCCESS_CODES:
        return TradeOutcome.SUCCESS
    if numeric_code in RETRYABLE_CODES:
        return TradeOutcome.RETRYABLE
    if numeric_code in OUTCOME_UNKNOWN_CODES:
        return TradeOutcome.OUTCOME_UNKNOWN
    return TradeOutcome.FINAL

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import urllib3
from pydantic import ValidationError

from mtcore.metaapi.client import MetaApiClient, client_api_url
from mtcore.metaapi.errors import (
    MetaApiForbidden,
    MetaApiMalformed,
    MetaApiNotConnected,
    MetaApiNotFound,
    MetaApiRateLimited,
    MetaApiTimeout,
    MetaApiTokenRefused,
    MetaApiUnauthorized,
    MetaApiUnavailable,
    MetaApiValidation,
)
from mtcore.metaapi.http import Deadline
from mtcore.metaapi.models import MetaApiTrade, TradeAction

ACCOUNT = ("acc-1", "london")


@dataclass
class FakeResponse:
    status: int
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakePool:
    """Plays urllib3.PoolManager: answers in order, records every request."""

    answers: list[FakeResponse | Exception]
    requests: list[dict[str, Any]] = field(default_factory=list)

    def request(self, method: str, url: str, **kwargs: Any) -> FakeResponse:
        self.requests.append({"method": method, "url": url, **kwargs})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> FakeResponse:
    return FakeResponse(status, json.dumps(body).encode(), headers or {})


def _client(
    pool: FakePool, *, budget: float = 10.0, template: str = "https://mt-client-api-v1.{region}.example"
) -> MetaApiClient:
    return MetaApiClient(
        "secret-token",
        http=pool,  # type: ignore[arg-type]
        provisioning_url="https://provisioning.example",
        client_url_template=template,
        deadline=Deadline(budget),
        sleep=lambda _: None,
    )


def test_region_url_is_built_from_the_accounts_region() -> None:
    template = "https://mt-client-api-v1.{region}.agiliumtrade.ai"

    assert client_api_url(template, "london") == "https://mt-client-api-v1.london.agiliumtrade.ai"
    assert client_api_url(template, "new-york") == "https://mt-client-api-v1.new-york.agiliumtrade.ai"
    assert client_api_url("http://127.0.0.1:3002", None) == "http://127.0.0.1:3002"
    with pytest.raises(MetaApiNotFound):
        client_api_url(template, None)


def test_reads_go_to_the_regional_host_with_the_token_header() -> None:
    pool = FakePool([_json(200, [])])

    _client(pool).positions(ACCOUNT)

    sent = pool.requests[0]
    assert sent["url"] == "https://mt-client-api-v1.london.example/users/current/accounts/acc-1/positions"
    assert sent["headers"]["auth-token"] == "secret-token"


def test_numbers_are_read_as_decimals() -> None:
    info = {"balance": 10000.29, "equity": 10012.57, "margin": 12.5, "freeMargin": 10000.07, "leverage": 100}
    pool = FakePool([FakeResponse(200, json.dumps(info).encode())])

    parsed = _client(pool).account_information(ACCOUNT)

    assert parsed.balance == Decimal("10000.29")
    assert parsed.free_margin == Decimal("10000.07")


def test_reads_retry_transient_failures_then_succeed() -> None:
    pool = FakePool(
        [_json(500, {"error": "InternalError"}), urllib3.exceptions.ProtocolError("reset"), _json(200, [])]
    )

    assert _client(pool).positions(ACCOUNT) == []
    assert len(pool.requests) == 3


def test_reads_give_up_after_their_retries() -> None:
    pool = FakePool([_json(503, {}) for _ in range(4)])

    with pytest.raises(MetaApiUnavailable):
        _client(pool).positions(ACCOUNT)
    assert len(pool.requests) == 4  # the first try and three retries


def test_a_trade_is_sent_once_even_when_the_answer_is_a_5xx() -> None:
    pool = FakePool([_json(502, {"error": "ApiError"}), _json(200, [])])
    request = MetaApiTrade(
        action_type="ORDER_TYPE_BUY", symbol="EURUSD", volume=Decimal("0.1"), client_id="c1"
    )

    with pytest.raises(MetaApiUnavailable):
        _client(pool).trade(ACCOUNT, request)
    assert len(pool.requests) == 1


def test_an_answer_we_cannot_read_is_metaapis_failure_and_a_trade_is_not_resent() -> None:
    pool = FakePool(
        [_json(200, {"symbol": "EURUSD", "bid": "not a price"}), _json(200, {"numericCode": "done"})]
    )
    request = MetaApiTrade(action_type="ORDER_TYPE_BUY", symbol="EURUSD", volume=Decimal("0.1"))

    with pytest.raises(MetaApiMalformed, match=r"\(bid"):
        _client(pool).current_price(ACCOUNT, "EURUSD")
    with pytest.raises(MetaApiUnavailable, match="cannot read"):  # as unclear as no answer
        _client(pool).trade(ACCOUNT, request)
    assert len(pool.requests) == 2
    assert MetaApiMalformed.status == 502


def test_a_trade_timeout_is_reported_as_a_timeout_and_not_retried() -> None:
    pool = FakePool([urllib3.exceptions.ReadTimeoutError(None, "/", "read timed out"), _json(200, {})])  # type: ignore[arg-type]
    request = MetaApiTrade(action_type="ORDER_TYPE_SELL", symbol="EURUSD", volume=Decimal("0.1"))

    with pytest.raises(MetaApiTimeout):
        _client(pool).trade(ACCOUNT, request)
    assert len(pool.requests) == 1


def test_trade_body_uses_metaapi_names_and_exact_numbers() -> None:
    pool = FakePool([_json(200, {"numericCode": 10009, "stringCode": "TRADE_RETCODE_DONE", "orderId": "7"})])
    request = MetaApiTrade(
        action_type="ORDER_TYPE_BUY",
        symbol="EURUSD",
        volume=Decimal("0.29"),
        stop_loss=Decimal("1.08512"),
        client_id="c1",
    )

    result = _client(pool).trade(ACCOUNT, request)

    assert json.loads(pool.requests[0]["body"]) == {
        "actionType": "ORDER_TYPE_BUY",
        "symbol": "EURUSD",
        "volume": 0.29,
        "stopLoss": 1.08512,
        "clientId": "c1",
    }
    assert result.order_id == "7"


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"error": "ValidationError", "message": "bad"}, MetaApiValidation),
        (401, {"error": "UnauthorizedError"}, MetaApiTokenRefused),
        (403, {"error": "ForbiddenError"}, MetaApiTokenRefused),
        (404, {"error": "NotFoundError"}, MetaApiNotFound),
        (409, {"error": "NotConnectedError"}, MetaApiNotConnected),
        (504, {"error": "NotSynchronizedError"}, MetaApiNotConnected),
    ],
)
def test_errors_are_typed(status: int, body: dict[str, str], error: type[Exception]) -> None:
    pool = FakePool([_json(status, body)])

    with pytest.raises(error):
        _client(pool).position(ACCOUNT, "123")
    assert len(pool.requests) == 1  # none of these is retried


def test_a_429_waits_as_advised_when_the_deadline_allows() -> None:
    waits: list[float] = []
    soon = datetime.now(UTC).timestamp() + 1
    advised = datetime.fromtimestamp(soon, UTC).isoformat()
    pool = FakePool([_json(429, {"metadata": {"recommendedRetryTime": advised}}), _json(200, [])])
    client = _client(pool)
    client._sleep = waits.append

    assert client.positions(ACCOUNT) == []
    assert 0 < waits[0] <= 1.0


def test_a_429_beyond_the_deadline_is_raised_with_its_retry_time() -> None:
    pool = FakePool([_json(429, {"error": "TooManyRequestsError"}, {"Retry-After": "30"})])

    with pytest.raises(MetaApiRateLimited) as raised:
        _client(pool, budget=5).positions(ACCOUNT)

    assert raised.value.retry_after_seconds == 30
    assert raised.value.headers() == {"Retry-After": "30"}


def test_an_exhausted_deadline_sends_nothing() -> None:
    pool = FakePool([])

    with pytest.raises(MetaApiTimeout):
        _client(pool, budget=0).positions(ACCOUNT)
    assert pool.requests == []


def test_history_is_read_in_pages_of_1000() -> None:
    first = [{"id": str(n)} for n in range(1000)]
    pool = FakePool([_json(200, first), _json(200, [{"id": "1000"}])])
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)

    deals = _client(pool).history_deals(ACCOUNT, start, end)

    assert len(deals) == 1001
    assert [request["fields"]["offset"] for request in pool.requests] == [0, 1000]
    assert (
        "/history-deals/time/2026-11-01T00%3A00%3A00.000Z/2026-11-02T00%3A00%3A00.000Z"
        in pool.requests[0]["url"]
    )


def test_trade_requests_name_one_of_the_15_actions() -> None:
    assert len(TradeAction) == 15
    with pytest.raises(ValidationError):
        MetaApiTrade.model_validate({"actionType": "ORDER_TYPE_BUY_NOW", "symbol": "EURUSD"})


@pytest.mark.parametrize(
    ("comment", "client_id", "accepted"),
    [("x" * 16, "c" * 10, True), ("x" * 17, "c" * 10, False), (None, "c" * 26, True), ("café", "c1", False)],
)
def test_comment_and_client_id_fit_in_26_ascii_characters(
    comment: str | None, client_id: str, accepted: bool
) -> None:
    fields = {"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "comment": comment, "clientId": client_id}

    if accepted:
        assert MetaApiTrade.model_validate(fields).client_id == client_id
    else:
        with pytest.raises(ValidationError):
            MetaApiTrade.model_validate(fields)


def test_unauthorized_and_forbidden_are_told_apart() -> None:
    pool = FakePool([_json(401, {"error": "UnauthorizedError"}), _json(403, {"error": "ForbiddenError"})])
    client = _client(pool)

    with pytest.raises(MetaApiUnauthorized):
        client.get_account("a")
    with pytest.raises(MetaApiForbidden):
        client.get_account("a")


def test_account_lists_pass_their_filters() -> None:
    pool = FakePool([_json(200, [])])

    _client(pool).list_accounts(
        limit=10, state=["DEPLOYED"], connection_status=["CONNECTED"], region=["london"]
    )

    assert pool.requests[0]["fields"] == {
        "offset": 0,
        "limit": 10,
        "state": ["DEPLOYED"],
        "connectionStatus": ["CONNECTED"],
        "region": ["london"],
    }

"""MetaApi REST client for one token. Stateless: build one per call site, share the pool."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar, cast
from urllib.parse import quote, urlsplit

import urllib3
from pydantic import BaseModel, TypeAdapter, ValidationError

from mtcore.metaapi.errors import (
    MetaApiError,
    MetaApiForbidden,
    MetaApiMalformed,
    MetaApiNotConnected,
    MetaApiNotFound,
    MetaApiRateLimited,
    MetaApiTimeout,
    MetaApiUnauthorized,
    MetaApiUnavailable,
    MetaApiValidation,
)
from mtcore.metaapi.http import READ_TIMEOUT_S, Deadline, HttpAnswer, decode_json, encode_json
from mtcore.metaapi.models import (
    AccountInformation,
    ConfigurationLinkAnswer,
    MetaApiTrade,
    Order,
    Position,
    RemoteAccount,
    SymbolPrice,
    SymbolSpecification,
    TradeResult,
)
from mtcore.metaapi.retry_time import retry_after_seconds
from mtcore.observability import record_call

ModelT = TypeVar("ModelT", bound=BaseModel)
ParsedT = TypeVar("ParsedT")
_ACCOUNTS = "/users/current/accounts"
_NOT_CONNECTED_ERRORS = {"NotConnectedError", "NotSynchronizedError", "NotAuthenticatedError"}
_RETRY_STATUSES = {409, 500, 502, 503, 504}
# Backoff between read retries: 0.2 s, 0.4 s, 0.8 s … capped, and always inside the deadline.
_FIRST_BACKOFF_S = 0.2
_MAX_BACKOFF_S = 2.0
_REFRESH = {"refreshTerminalState": "true"}


def client_api_url(template: str, region: str | None) -> str:
    """The client API host of an account's region, e.g. https://mt-client-api-v1.london.agiliumtrade.ai."""
    if "{region}" in template:
        if not region:
            raise MetaApiNotFound("This account has no MetaApi region on record")
        return template.format(region=region)
    return template


class MetaApiClient:
    def __init__(
        self,
        token: str,
        *,
        http: urllib3.PoolManager,
        provisioning_url: str,
        client_url_template: str,
        deadline: Deadline,
        read_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._token = token
        self._http = http
        self._provisioning_url = provisioning_url.rstrip("/")
        self._client_url_template = client_url_template.rstrip("/")
        self._deadline = deadline
        self._read_retries = read_retries
        self._sleep = sleep

    def with_budget(self, seconds: float) -> MetaApiClient:
        """The same client with a time budget of its own, counted from now: each phase of a
        trade (its reads, its send, the look at its outcome) gets the time it needs."""
        return MetaApiClient(
            self._token,
            http=self._http,
            provisioning_url=self._provisioning_url,
            client_url_template=self._client_url_template,
            deadline=Deadline(seconds, clock=self._deadline.clock),
            read_retries=self._read_retries,
            sleep=self._sleep,
        )

    # Provisioning ---------------------------------------------------------------------------

    def get_account(self, account_id: str) -> RemoteAccount:
        return self._read_model(
            RemoteAccount, self._provisioning_url, f"{_ACCOUNTS}/{quote(account_id, safe='')}"
        )

    def list_accounts(
        self,
        *,
        offset: int = 0,
        limit: int = 1000,
        query: str | None = None,
        state: list[str] | None = None,
        connection_status: list[str] | None = None,
        region: list[str] | None = None,
    ) -> list[RemoteAccount]:
        """One page of the token's accounts (`offset`, `limit` ≤ 1000), optionally filtered."""
        fields: dict[str, Any] = {"offset": offset, "limit": limit}
        filters = {"query": query, "state": state, "connectionStatus": connection_status, "region": region}
        fields |= {name: value for name, value in filters.items() if value}
        body = self._read(self._provisioning_url, _ACCOUNTS, fields=fields, headers={"api-version": "1"})
        return parsed_answer(list[RemoteAccount], body)

    def configuration_link(self, account_id: str, *, ttl_days: int) -> str:
        """A fresh link to MetaApi's page where the trader types the account's login and password."""
        path = f"{_ACCOUNTS}/{quote(account_id, safe='')}/configuration-link?ttlInDays={ttl_days}"
        answer = self._send("PUT", self._provisioning_url, path, retries=self._read_retries)
        return parsed_answer(ConfigurationLinkAnswer, answer).configuration_link

    # Client API -----------------------------------------------------------------------------

    def account_information(self, account: RemoteAccount | tuple[str, str | None]) -> AccountInformation:
        return self._read_model(AccountInformation, *self._client_path(account, "/account-information"))

    def positions(
        self, account: RemoteAccount | tuple[str, str | None], *, refresh: bool = False
    ) -> list[Position]:
        """`refresh`: the terminal's state as of now (slower), not MetaApi's cached copy."""
        fields = _REFRESH if refresh else None
        return parsed_answer(
            list[Position], self._read(*self._client_path(account, "/positions"), fields=fields)
        )

    def position(self, account: RemoteAccount | tuple[str, str | None], position_id: str) -> Position:
        path = f"/positions/{quote(position_id, safe='')}"
        return self._read_model(Position, *self._client_path(account, path))

    def orders(
        self, account: RemoteAccount | tuple[str, str | None], *, refresh: bool = False
    ) -> list[Order]:
        """`refresh`: the terminal's state as of now (slower), not MetaApi's cached copy."""
        fields = _REFRESH if refresh else None
        return parsed_answer(
            list[Order], self._read(*self._client_path(account, "/orders"), fields=fields) or []
        )

    def order(self, account: RemoteAccount | tuple[str, str | None], order_id: str) -> Order:
        path = f"/orders/{quote(order_id, safe='')}"
        return self._read_model(Order, *self._client_path(account, path))

    def history_orders(
        self, account: RemoteAccount | tuple[str, str | None], start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        return self._history(account, "history-orders", start, end)

    def history_orders_by_ticket(
        self, account: RemoteAccount | tuple[str, str | None], ticket: str
    ) -> list[dict[str, Any]]:
        path = f"/history-orders/ticket/{quote(ticket, safe='')}"
        return list(self._read(*self._client_path(account, path)) or [])

    def history_deals_by_position(
        self, account: RemoteAccount | tuple[str, str | None], position_id: str
    ) -> list[dict[str, Any]]:
        path = f"/history-deals/position/{quote(position_id, safe='')}"
        return list(self._read(*self._client_path(account, path)) or [])

    def history_deals(
        self, account: RemoteAccount | tuple[str, str | None], start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        return self._history(account, "history-deals", start, end)

    def symbols(self, account: RemoteAccount | tuple[str, str | None]) -> list[str]:
        return [str(symbol) for symbol in self._read(*self._client_path(account, "/symbols")) or []]

    def specification(
        self, account: RemoteAccount | tuple[str, str | None], symbol: str
    ) -> SymbolSpecification:
        path = f"/symbols/{quote(symbol, safe='')}/specification"
        return self._read_model(SymbolSpecification, *self._client_path(account, path))

    def current_price(self, account: RemoteAccount | tuple[str, str | None], symbol: str) -> SymbolPrice:
        path = f"/symbols/{quote(symbol, safe='')}/current-price"
        return self._read_model(SymbolPrice, *self._client_path(account, path))

    def server_time(self, account: RemoteAccount | tuple[str, str | None]) -> dict[str, Any]:
        answer: dict[str, Any] = self._read(*self._client_path(account, "/server-time"))
        return answer

    def calculate_margin(
        self, account: RemoteAccount | tuple[str, str | None], order: dict[str, Any]
    ) -> dict[str, Any]:
        base, path = self._client_path(account, "/calculate-margin")
        answer: dict[str, Any] = self._send("POST", base, path, body=order, retries=self._read_retries)
        return answer

    def trade(self, account: RemoteAccount | tuple[str, str | None], request: MetaApiTrade) -> TradeResult:
        """Send one trade request, once. A timeout or 5xx raises: the outcome is then unknown and
        only a reconciliation by clientId can tell whether it executed."""
        base, path = self._client_path(account, "/trade")
        body = request.model_dump(mode="json", by_alias=True, exclude_none=True)
        return parsed_answer(TradeResult, self._send("POST", base, path, body=body, retries=0))

    # Plumbing -------------------------------------------------------------------------------

    def _client_path(self, account: RemoteAccount | tuple[str, str | None], suffix: str) -> tuple[str, str]:
        account_id, region = (account.id, account.region) if isinstance(account, RemoteAccount) else account
        base = client_api_url(self._client_url_template, region)
        return base, f"{_ACCOUNTS}/{quote(account_id, safe='')}{suffix}"

    def _history(
        self, account: RemoteAccount | tuple[str, str | None], kind: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """Every item in [start, end), read in pages of 1000."""
        window = f"/{kind}/time/{quote(_iso(start), safe='')}/{quote(_iso(end), safe='')}"
        base, path = self._client_path(account, window)
        items: list[dict[str, Any]] = []
        while True:
            page = list(self._read(base, path, fields={"offset": len(items), "limit": 1000}) or [])
            items += page
            if len(page) < 1000:
                return items

    def _read_model(self, model: type[ModelT], base: str, path: str) -> ModelT:
        return parsed_answer(model, self._read(base, path))

    def _read(
        self,
        base: str,
        path: str,
        *,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        return self._send("GET", base, path, fields=fields, headers=headers, retries=self._read_retries)

    def _send(
        self,
        method: str,
        base: str,
        path: str,
        *,
        retries: int,
        fields: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        attempt = 0
        while True:
            try:
                answer = self._request(method, base + path, fields=fields, body=body, headers=headers)
                return answer_or_raise(answer)
            except (MetaApiUnavailable, MetaApiRateLimited) as error:
                wait = (
                    error.retry_after_seconds
                    if isinstance(error, MetaApiRateLimited)
                    else min(_MAX_BACKOFF_S, _FIRST_BACKOFF_S * 2**attempt)
                )
                # Retry only when it can still finish in time: never wait past the deadline.
                if attempt >= retries or wait + 0.5 > self._deadline.remaining():
                    raise
                attempt += 1
                self._sleep(wait)

    def _request(
        self,
        method: str,
        url: str,
        *,
        fields: dict[str, Any] | None,
        body: Any,
        headers: dict[str, str] | None,
    ) -> HttpAnswer:
        remaining = self._deadline.remaining()
        if remaining <= 0:
            raise MetaApiTimeout("MetaApi did not answer in time")
        request_headers = {"auth-token": self._token, "Accept": "application/json", **(headers or {})}
        encoded = None
        if body is not None:
            request_headers["Content-Type"] = "application/json"
            encoded = encode_json(body)
        timeout = urllib3.Timeout(connect=min(3.0, remaining), read=min(READ_TIMEOUT_S, remaining))
        began = time.perf_counter()
        status: int | None = None
        try:
            if fields:
                response = self._http.request(
                    method, url, fields=fields, headers=request_headers, timeout=timeout, redirect=False
                )
            else:
                response = self._http.request(
                    method, url, body=encoded, headers=request_headers, timeout=timeout, redirect=False
                )
        except (urllib3.exceptions.TimeoutError, urllib3.exceptions.ProtocolError) as error:
            if isinstance(error, urllib3.exceptions.ConnectTimeoutError):
                raise MetaApiUnavailable("MetaApi could not be reached") from None
            if isinstance(error, urllib3.exceptions.TimeoutError):
                raise MetaApiTimeout("MetaApi did not answer in time") from None
            raise MetaApiUnavailable("The connection to MetaApi was cut") from None
        except urllib3.exceptions.HTTPError:
            raise MetaApiUnavailable("MetaApi could not be reached") from None
        else:
            status = response.status
        finally:
            record_call(
                "MetaApi", f"{method} {urlsplit(url).path}", time.perf_counter() - began, status=status
            )
        return HttpAnswer(response.status, decode_json(response.data), response.headers.get("Retry-After"))


def answer_or_raise(answer: HttpAnswer) -> Any:
    """The body of a successful answer; else the MetaApi error it stands for."""
    if 200 <= answer.status < 300:
        return answer.body
    body = answer.body if isinstance(answer.body, dict) else {}
    name = body.get("error")
    message = str(body.get("message") or f"MetaApi answered HTTP {answer.status}")
    details = body.get("details")
    if answer.status == 429:
        wait = retry_after_seconds(body, answer.retry_after, now=datetime.now(UTC))
        raise MetaApiRateLimited(message, retry_after_seconds=1.0 if wait is None else wait, details=details)
    if name in _NOT_CONNECTED_ERRORS:
        raise MetaApiNotConnected(message, error_name=name, details=details)
    error_class: type[MetaApiError] = {
        400: MetaApiValidation,
        401: MetaApiUnauthorized,
        403: MetaApiForbidden,
        404: MetaApiNotFound,
    }.get(answer.status, MetaApiUnavailable if answer.status in _RETRY_STATUSES else MetaApiError)
    if answer.status >= 500 and answer.status not in _RETRY_STATUSES:
        error_class = MetaApiUnavailable
    raise error_class(message, error_name=name, details=details)


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parsed_answer(shape: type[ParsedT], body: Any) -> ParsedT:
    """MetaApi's answer read into our models; one we cannot read is MetaApi's failure, never ours."""
    try:
        if isinstance(shape, type) and issubclass(shape, BaseModel):
            return shape.model_validate(body)
        adapter: TypeAdapter[ParsedT] = _adapter(cast("Hashable", shape))
        return adapter.validate_python(body)
    except ValidationError as error:
        where = [".".join(str(part) for part in problem["loc"]) or "the answer" for problem in error.errors()]
        raise MetaApiMalformed(
            f"MetaApi answered in a shape we cannot read ({', '.join(where[:3])})"
        ) from error


@cache
def _adapter(shape: Hashable) -> TypeAdapter[Any]:
    """Built once per shape: building one costs more than reading a short list with it."""
    return TypeAdapter(shape)

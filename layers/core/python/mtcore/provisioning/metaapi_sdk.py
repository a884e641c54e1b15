"""MetaApi's provisioning API through the official SDK (`metaapi-cloud-sdk`, its own layer).

Only the provisioning function loads this module: importing the SDK costs over half a second, so
nothing on the hot path may (tests/unit/test_hot_path_imports.py).

The SDK's account client builds every provisioning call; the HTTP client it is given makes each
call fit one step of a Lambda: sent once and answered at once. A 202 (MetaApi still creating)
comes back as `Pending` instead of being slept through for up to ten minutes; a creation carries
the account's own transaction-id, the same on every retry and redelivery, where the SDK would
draw a new one per call (and so could create a second account); errors become ours; and calls go
to the configured provisioning URL (the simulator in tests and the local stack).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from metaapi_cloud_sdk.clients.domain_client import DomainClient
from metaapi_cloud_sdk.clients.http_client import HttpClient
from metaapi_cloud_sdk.clients.metaapi.metatrader_account_client import MetatraderAccountClient
from metaapi_cloud_sdk.clients.method_access_exception import MethodAccessException

from mtcore.metaapi.client import answer_or_raise, parsed_answer
from mtcore.metaapi.errors import MetaApiForbidden, MetaApiNotFound, MetaApiTimeout, MetaApiUnavailable
from mtcore.metaapi.http import READ_TIMEOUT_S, HttpAnswer, decode_json
from mtcore.metaapi.models import CreatedAccount, RemoteAccount
from mtcore.metaapi.retry_time import retry_after_seconds
from mtcore.observability import record_call
from mtcore.provisioning.steps import Pending

if TYPE_CHECKING:
    from collections.abc import Coroutine

# MetaApi asked to come back without saying when.
_DEFAULT_RETRY_S = 5.0


class _OneCall(HttpClient):  # type: ignore[misc]  # the SDK ships no type hints, so HttpClient is Any
    def __init__(self, *, base_url: str, transaction_id: str | None, timeout_s: float) -> None:
        super().__init__(timeout=timeout_s)
        self._base_url = base_url.rstrip("/")
        self._transaction_id = transaction_id

    async def request(
        self,
        options: dict[str, Any],
        type: str = "",
        retry_counter: int = 0,
        end_time: float | None = None,
        isLongRunning: bool = False,
    ) -> Any:
        headers = dict(options.get("headers") or {})
        if "transaction-id" in headers:
            if self._transaction_id is None:
                raise RuntimeError("a creation needs the account's own transaction-id")
            headers["transaction-id"] = self._transaction_id
        method = str(options.get("method", "GET"))
        path = urlsplit(str(options["url"])).path
        began, status = time.perf_counter(), None
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.request(
                    method,
                    self._base_url + path,
                    params=options.get("params"),
                    headers=headers,
                    json=options.get("body"),
                )
            status = response.status_code
        except httpx.TimeoutException:
            raise MetaApiTimeout("MetaApi did not answer in time") from None
        except httpx.TransportError:
            raise MetaApiUnavailable("MetaApi could not be reached") from None
        finally:
            record_call("MetaApi", f"{method} {path}", time.perf_counter() - began, status=status)
        body = decode_json(response.content)
        retry_after = response.headers.get("retry-after")
        if status == 202:
            wait = retry_after_seconds(body, retry_after, now=datetime.now(UTC))
            message = body.get("message") if isinstance(body, dict) else None
            return Pending(
                _DEFAULT_RETRY_S if wait is None else wait, str(message or "MetaApi is working on it")
            )
        return answer_or_raise(HttpAnswer(status, body, retry_after))


class SdkProvisioning:
    """MetaApi's provisioning calls for one token, each a single HTTP call."""

    def __init__(self, token: str, *, base_url: str, timeout_s: float = READ_TIMEOUT_S) -> None:
        self._token = token
        self._base_url = base_url
        self._timeout_s = timeout_s

    def create(self, body: dict[str, Any], *, transaction_id: str) -> CreatedAccount | Pending:
        answer = self._run(lambda client: client.create_account(body), transaction_id)
        return answer if isinstance(answer, Pending) else parsed_answer(CreatedAccount, answer)

    def get(self, metaapi_id: str) -> RemoteAccount:
        return parsed_answer(RemoteAccount, self._run(lambda client: client.get_account(metaapi_id)))

    def deploy(self, metaapi_id: str) -> None:
        self._run(lambda client: client.deploy_account(metaapi_id))

    def undeploy(self, metaapi_id: str) -> None:
        self._run(lambda client: client.undeploy_account(metaapi_id))

    def redeploy(self, metaapi_id: str) -> None:
        self._run(lambda client: client.redeploy_account(metaapi_id))

    def remove(self, metaapi_id: str) -> None:
        """Remove it at MetaApi; one already gone is removed."""
        try:
            self._run(lambda client: client.delete_account(metaapi_id))
        except MetaApiNotFound:
            return

    def _run(
        self,
        call: Any,
        transaction_id: str | None = None,
    ) -> Any:
        http = _OneCall(base_url=self._base_url, transaction_id=transaction_id, timeout_s=self._timeout_s)
        client = MetatraderAccountClient(http, DomainClient(http, self._token))
        coroutine: Coroutine[Any, Any, Any] = call(client)
        try:
            return asyncio.run(coroutine)
        except MethodAccessException:
            raise MetaApiForbidden(
                "This MetaApi token is an account access token: creating and deploying accounts "
                "needs an API token"
            ) from None

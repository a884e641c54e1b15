"""A local stand-in for API Gateway's WebSocket API and its management API.

Connections on `ws://localhost:3001/?token=…` go through the real authorizer (a REQUEST
authorizer event: Deny or a missing token refuse the upgrade, as API Gateway does, with 401 or
403), then the real routes' function gets `$connect`, each message (`$default`: the API routes
on `$request.body.action` and has no other routes) and `$disconnect`, with the connection id and
the authorizer's context where API Gateway puts them. The management API (`POST`, `GET`,
`DELETE /@connections/{id}`, what boto3's `apigatewaymanagementapi` client calls) runs on a port
of its own, since a WebSocket server takes GET upgrades only: 410 `GoneException` for a
connection that is not open, as the deployed API answers."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as UpgradeRequest
from websockets.http11 import Response as UpgradeResponse
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from infra.local.gateway import LambdaContext

Handler = Callable[[dict[str, Any], Any], Any]
# How long a function may run for one route, as the routes' function's timeout.
ROUTE_TIMEOUT_S = 10.0
_API_ID = "localws"


def _connection_id() -> str:
    """Shaped as API Gateway's: 12 characters ending in `=`."""
    return base64.urlsafe_b64encode(secrets.token_bytes(8)).decode()[:11] + "="


class LocalWebSocketApi:
    def __init__(self, *, authorizer: Handler, routes: Handler, stage: str) -> None:
        self._authorizer = authorizer
        self._routes = routes
        self._stage = stage
        self._open: dict[str, ServerConnection] = {}
        self._connected_at: dict[str, datetime] = {}
        self._loop = asyncio.new_event_loop()
        self._server: Server | None = None
        self._lock = threading.Lock()

    # Serving ----------------------------------------------------------------------------------

    def start(self, host: str, port: int) -> int:
        """Serves WebSocket connections on `port` (0: any free one); answers the port."""
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)

            async def main() -> None:
                self._server = await serve(
                    self._connection, host, port, process_request=self._authorize, ping_interval=None
                )
                ready.set()
                await self._server.serve_forever()

            self._loop.run_until_complete(main())

        threading.Thread(target=run, name="websocket-api", daemon=True).start()
        if not ready.wait(10) or self._server is None:
            raise RuntimeError("the local WebSocket API did not start")
        bound: int = next(iter(self._server.sockets)).getsockname()[1]
        return bound

    def stop(self) -> None:
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)

    async def _authorize(
        self, connection: ServerConnection, request: UpgradeRequest
    ) -> UpgradeResponse | None:
        """The REQUEST authorizer, as API Gateway runs it before the upgrade."""
        token = (parse_qs(urlsplit(request.path).query).get("token") or [""])[0]
        if not token:
            # The identity source is missing: API Gateway answers 401 without calling the authorizer.
            return connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
        event = {
            "type": "REQUEST",
            "methodArn": f"arn:aws:execute-api:us-east-1:000000000000:{_API_ID}/{self._stage}/$connect",
            "queryStringParameters": {"token": token},
            "headers": dict(request.headers.raw_items()),
            "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "stage": self._stage},
        }
        policy = await asyncio.to_thread(self._call, self._authorizer, event, "authorizer")
        statement = ((policy or {}).get("policyDocument") or {}).get("Statement") or [{}]
        if statement[0].get("Effect") != "Allow":
            return connection.respond(HTTPStatus.FORBIDDEN, "Forbidden\n")
        connection.authorizer = {"principalId": policy.get("principalId"), **(policy.get("context") or {})}  # type: ignore[attr-defined]
        return None

    async def _connection(self, connection: ServerConnection) -> None:
        connection_id = _connection_id()
        authorizer = getattr(connection, "authorizer", {})
        answer = await asyncio.to_thread(
            self._call, self._routes, self._event("$connect", "CONNECT", connection_id, authorizer), "routes"
        )
        if not isinstance(answer, dict) or answer.get("statusCode") != 200:
            await connection.close(1008, "connection refused")
            return
        with self._lock:
            self._open[connection_id] = connection
            self._connected_at[connection_id] = datetime.now(UTC)
        try:
            async for message in connection:
                body = message if isinstance(message, str) else message.decode(errors="replace")
                event = self._event("$default", "MESSAGE", connection_id, authorizer, body=body)
                await asyncio.to_thread(self._call, self._routes, event, "routes")
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._open.pop(connection_id, None)
                self._connected_at.pop(connection_id, None)
            event = self._event("$disconnect", "DISCONNECT", connection_id, authorizer)
            await asyncio.to_thread(self._call, self._routes, event, "routes")

    def _event(
        self,
        route: str,
        kind: str,
        connection_id: str,
        authorizer: dict[str, Any],
        *,
        body: str | None = None,
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "requestContext": {
                "routeKey": route,
                "eventType": kind,
                "connectionId": connection_id,
                "apiId": _API_ID,
                "stage": self._stage,
                "domainName": "localhost",
                "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(time.time() * 1000),
                "authorizer": authorizer,
            },
            "isBase64Encoded": False,
        }
        if body is not None:
            event["body"] = body
        return event

    @staticmethod
    def _call(handler: Handler, event: dict[str, Any], name: str) -> Any:
        context = LambdaContext(name, time.monotonic() + ROUTE_TIMEOUT_S, str(uuid.uuid4()))
        try:
            return handler(event, context)
        except Exception as error:  # a failed invocation, as Lambda reports it to API Gateway
            print(f"  websocket {name}: {error}", flush=True)
            return None

    # The management API ---------------------------------------------------------------------

    def management_app(self) -> Callable[..., Any]:
        # boto3 quotes the id into the path; whatever it holds, the rest of the path is the id.
        urls = Map([Rule("/@connections/<path:connection_id>", endpoint="connection")])

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            request = Request(environ)
            try:
                _, args = urls.bind_to_environ(environ).match()
            except Exception:
                return Response(status=404)(environ, start_response)
            response = self._manage(request, str(args["connection_id"]))
            return response(environ, start_response)

        return app

    def _manage(self, request: Request, connection_id: str) -> Response:
        with self._lock:
            connection = self._open.get(connection_id)
            connected_at = self._connected_at.get(connection_id)
        if connection is None or connected_at is None:
            return Response(
                json.dumps({"message": "Gone"}),
                status=410,
                content_type="application/json",
                headers={"x-amzn-ErrorType": "GoneException"},
            )
        if request.method == "POST":
            data = request.get_data(as_text=True)
            asyncio.run_coroutine_threadsafe(connection.send(data), self._loop).result(timeout=5)
            return Response(status=200)
        if request.method == "DELETE":
            asyncio.run_coroutine_threadsafe(connection.close(), self._loop).result(timeout=5)
            return Response(status=204)
        body = {"connectedAt": connected_at.isoformat(), "lastActiveAt": datetime.now(UTC).isoformat()}
        return Response(json.dumps(body), content_type="application/json")

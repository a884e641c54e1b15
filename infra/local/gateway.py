"""A local stand-in for API Gateway and its Cognito authorizer.

It turns HTTP requests into API Gateway REST (v1) proxy events for the real handler, puts the
verified `sub` where the Cognito authorizer puts it (`requestContext.authorizer.claims`), and
answers what API Gateway answers by itself (401, unknown routes, CORS preflight) with the same
bodies as the deployed stack. It also issues dev tokens and serves their signing keys (as a user
pool serves its JWKS), the live page at `/` and the mail SES sent (`/_local/mail`), which only
exist here.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from infra.api_contract import (
    API_ROOT,
    CORS_ALLOW_HEADERS,
    NO_ROUTE,
    PUBLIC_ROUTES,
    TELEGRAM_WEBHOOK_RESOURCE,
    UNAUTHORIZED,
    WEBHOOK_INTAKE_RESOURCE,
    GatewayError,
)
from infra.local.tokens import JWKS_PATH, TOKEN_LIFETIME_S, DevTokens

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

DEV_TOKEN_PATH = "/api/dev/token"  # noqa: S105 - a route, not a secret
DOCS_PATH = "/api/docs"
MAIL_PATH = "/_local/mail"
OPENAPI_PATH = "/api/openapi.json"
_USER_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")
_INTAKE_PATH = re.compile("^" + WEBHOOK_INTAKE_RESOURCE.replace("{id}", "(?P<id>[^/]+)") + "$")
_SWAGGER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>MetaTrader backend API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "%s", dom_id: "#ui"});</script></body></html>"""


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as `context`, enough for Powertools."""

    function_name: str
    deadline_s: float
    aws_request_id: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline_s - time.monotonic()) * 1000))


class LocalGateway:
    def __init__(
        self,
        handler: Handler,
        *,
        intake: Handler,
        tokens: DevTokens,
        stage: str,
        cors_allow_origins: list[str],
        openapi: Callable[[], str],
        telegram: Handler | None = None,
        live_page: str | None = None,
        timeout_s: float = 25.0,
        containers: int = 4,
    ) -> None:
        self._handler = handler
        self._intake = intake
        self._tokens = tokens
        self._stage = stage
        self._origins = cors_allow_origins
        self._openapi = openapi
        self._live_page = live_page
        self._telegram = telegram
        self._timeout_s = timeout_s
        # Lambda runs concurrent requests in as many containers, each one request at a time: here
        # a function serves at most `containers` requests at once, and a request beyond that waits
        # for one to finish (see `containers.py` for what the handlers share in one process).
        self._containers = threading.BoundedSemaphore(containers)
        self._intake_containers = threading.BoundedSemaphore(containers)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        started = time.monotonic()
        response = self._dispatch(request)
        # Path only, like the deployed access log: query strings stay out of logs.
        elapsed_ms = (time.monotonic() - started) * 1000
        print(
            f"  {request.method} {request.path} -> {response.status_code} ({elapsed_ms:.0f} ms)", flush=True
        )
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        path = request.path
        if request.method == "OPTIONS":
            return self._preflight(request)
        if path == DEV_TOKEN_PATH and request.method == "POST":
            return self._issue_token(request)
        if path == DOCS_PATH and request.method == "GET":
            return Response(_SWAGGER_PAGE % OPENAPI_PATH, content_type="text/html")
        if path == OPENAPI_PATH and request.method == "GET":
            return Response(self._openapi(), content_type="application/json")
        if path == JWKS_PATH and request.method == "GET":
            return Response(json.dumps(self._tokens.jwks()), content_type="application/json")
        if path == MAIL_PATH and request.method == "GET":
            from infra.local.mail import sent_mail

            return Response(json.dumps(sent_mail(request.args.get("to"))), content_type="application/json")
        if path == "/" and request.method == "GET" and self._live_page is not None:
            return Response(self._live_page, content_type="text/html; charset=utf-8")
        if path != f"/{API_ROOT}" and not path.startswith(f"/{API_ROOT}/"):
            return self._gateway_error(request, NO_ROUTE)
        if (request.method, path) in PUBLIC_ROUTES:
            return self._invoke(request, resource=path, claims=None)
        intake = _INTAKE_PATH.match(path)
        if intake is not None and request.method == "POST":
            return self._invoke_intake(request, intake.group("id"))
        if path == TELEGRAM_WEBHOOK_RESOURCE and request.method == "POST" and self._telegram is not None:
            return self._invoke_telegram(request, self._telegram)
        claims = self._claims_of(request)
        if claims is None:
            return self._gateway_error(request, UNAUTHORIZED)
        return self._invoke(request, resource=f"/{API_ROOT}/{{proxy+}}", claims=claims)

    def _claims_of(self, request: Request) -> dict[str, str] | None:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        return self._tokens.verify(token.strip())

    def _issue_token(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            body = None
        user_id = body.get("userId") if isinstance(body, dict) else None
        if not isinstance(user_id, str) or not _USER_ID.match(user_id):
            problem = {"field": "body.userId", "message": "1-128 letters, digits or _ . @ -"}
            payload = {
                "code": "VALIDATION_ERROR",
                "message": "Invalid request: check body.userId",
                "details": [problem],
            }
            return self._json(request, 422, payload)
        token = self._tokens.issue(user_id)
        return self._json(request, 200, {"token": token, "userId": user_id, "expiresIn": TOKEN_LIFETIME_S})

    def _preflight(self, request: Request) -> Response:
        response = Response(status=204)
        self._add_cors(request, response.headers)
        response.headers["Access-Control-Allow-Methods"] = "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"
        response.headers["Access-Control-Allow-Headers"] = ",".join(CORS_ALLOW_HEADERS)
        return response

    def _gateway_error(self, request: Request, error: GatewayError) -> Response:
        return self._json(request, error.status, {"code": error.code, "message": error.message})

    def _json(self, request: Request, status: int, payload: dict[str, Any]) -> Response:
        response = Response(json.dumps(payload), status=status, content_type="application/json")
        self._add_cors(request, response.headers)
        return response

    def _add_cors(self, request: Request, headers: Headers) -> None:
        origin = request.headers.get("Origin")
        if "*" in self._origins:
            headers["Access-Control-Allow-Origin"] = "*"
        elif origin in self._origins:
            headers["Access-Control-Allow-Origin"] = origin
            headers["Vary"] = "Origin"

    def _invoke(self, request: Request, *, resource: str, claims: dict[str, str] | None) -> Response:
        event = self._event(request, resource=resource, claims=claims)
        request_id = event["requestContext"]["requestId"]
        with self._containers:
            context = LambdaContext("api", time.monotonic() + self._timeout_s, request_id)
            result = self._handler(event, context)
        return self._response_of(result)

    def _invoke_intake(self, request: Request, webhook_id: str) -> Response:
        """The webhook intake, public as deployed; its source IP is the socket's peer."""
        event = self._event(request, resource=WEBHOOK_INTAKE_RESOURCE, claims=None)
        event["pathParameters"] = {"id": webhook_id}
        with self._intake_containers:
            context = LambdaContext(
                "webhook", time.monotonic() + self._timeout_s, event["requestContext"]["requestId"]
            )
            result = self._intake(event, context)
        return self._response_of(result)

    def _invoke_telegram(self, request: Request, handler: Handler) -> Response:
        """The Telegram bot's webhook, public as deployed; its function checks the secret header."""
        event = self._event(request, resource=TELEGRAM_WEBHOOK_RESOURCE, claims=None)
        context = LambdaContext(
            "telegram", time.monotonic() + self._timeout_s, event["requestContext"]["requestId"]
        )
        return self._response_of(handler(event, context))

    def _event(self, request: Request, *, resource: str, claims: dict[str, str] | None) -> dict[str, Any]:
        raw_body = request.get_data()
        try:
            body: str | None = raw_body.decode() if raw_body else None
            is_base64 = False
        except UnicodeDecodeError:
            body, is_base64 = base64.b64encode(raw_body).decode(), True
        query = request.args
        path_parameters = (
            {"proxy": request.path.removeprefix(f"/{API_ROOT}/")} if "{proxy+}" in resource else None
        )
        context: dict[str, Any] = {
            "accountId": "000000000000",
            "apiId": "local",
            "stage": self._stage,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "resourcePath": resource,
            "httpMethod": request.method,
            # The path as called: the local URL has no stage in it (a custom domain's mapping).
            "path": request.path,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "identity": {"sourceIp": request.remote_addr, "userAgent": request.user_agent.string},
        }
        if claims is not None:
            context["authorizer"] = {"claims": claims}
        headers = dict(request.headers.items())
        return {
            "resource": resource,
            "path": request.path,
            "httpMethod": request.method,
            "headers": headers,
            "multiValueHeaders": {name: request.headers.getlist(name) for name in headers},
            "queryStringParameters": {name: query[name] for name in query} or None,
            "multiValueQueryStringParameters": {name: query.getlist(name) for name in query} or None,
            "pathParameters": path_parameters,
            "stageVariables": None,
            "requestContext": context,
            "body": body,
            "isBase64Encoded": is_base64,
        }

    @staticmethod
    def _response_of(result: dict[str, Any]) -> Response:
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        response = Response(data, status=int(result["statusCode"]))
        response.headers.pop("Content-Type", None)
        for name, value in (result.get("headers") or {}).items():
            response.headers[name] = value
        for name, values in (result.get("multiValueHeaders") or {}).items():
            response.headers.setlist(name, values)
        return response

"""The API's resolver: routes, OpenAPI description and the error mapping, in one place."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from functions.api import bodies, routes
from functions.api.openapi import COGNITO_SCHEME
from mtcore import SERVICE_NAME, __version__
from mtcore.errors import DomainError, ErrorBody, http_error_of, validation_problems
from mtcore.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


class ApiResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, with the one check every body passes before any route runs, and
    the route modules registered as requests first need them (see `routes`)."""

    def __init__(self) -> None:
        super().__init__(enable_validation=True)
        self._registered: set[str] = set()
        # The local stack serves requests on threads; a Lambda container, one at a time.
        self._registering = threading.Lock()

    def register_routes(self, modules: Iterable[str]) -> None:
        with self._registering:
            for module in modules:
                if module not in self._registered:
                    self.include_router(routes.router_of(module), prefix=routes.ROUTE_MODULES[module])
                    self._registered.add(module)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        refused = bodies.refusal(event)
        if refused is not None:
            return refused
        self.register_routes(routes.modules_for(str(event.get("path") or "")))
        answer: dict[str, Any] = super().resolve(event, context)
        return answer


app = ApiResolver()


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers
    )


@app.exception_handler(DomainError)
def _domain_error(error: DomainError) -> Response[Any]:
    status, body, headers = http_error_of(error)
    logger.info("request refused", extra={"errorCode": error.code, "status": status})
    return _json(status, body, headers)


def _content_type() -> str:
    headers = app.current_event.headers
    return str(headers.get("content-type") or headers.get("Content-Type") or "")


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported_media_type(_: RequestUnsupportedContentType) -> Response[Any]:
    status, body = bodies.unsupported_media_type(_content_type())
    return _json(status, body.model_dump(exclude_none=True))


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response[Any]:
    errors = list(error.errors())
    whole_body = bodies.invalid_body(errors, _content_type(), app.current_event.body)
    if whole_body is not None:
        status, body = whole_body
        return _json(status, body.model_dump(exclude_none=True))
    problems = validation_problems(errors)
    fields = ", ".join(problem.field for problem in problems)
    body = ErrorBody(code="VALIDATION_ERROR", message=f"Invalid request: check {fields}", details=problems)
    return _json(HTTPStatus.UNPROCESSABLE_ENTITY, body.model_dump(exclude_none=True))


@app.not_found
def _no_route(_: Exception) -> Response[Any]:
    event = app.current_event
    body = ErrorBody(code="NOT_FOUND", message=f"No route {event.http_method} {event.path}")
    return _json(HTTPStatus.NOT_FOUND, body.model_dump(exclude_none=True))


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response[Any]:
    # The trace goes to the log only; the caller gets a stable code and the request id to quote.
    logger.exception("unexpected error")
    body = ErrorBody(code="INTERNAL_ERROR", message="Something went wrong on our side; it has been logged")
    return _json(HTTPStatus.INTERNAL_SERVER_ERROR, body.model_dump(exclude_none=True))


def openapi_json() -> str:
    """The API description checked in as docs/openapi.json."""
    # Imported here: only the description needs the OpenAPI models, and they are large.
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    # Every route, in the order of `routes.ROUTE_MODULES` whatever requests `app` has served: a
    # resolver of its own, which only describes. Each router goes on answering for `app`.
    described = APIGatewayRestResolver(enable_validation=True)
    for module, prefix in routes.ROUTE_MODULES.items():
        router = routes.router_of(module)
        serving = router.api_resolver
        described.include_router(router, prefix=prefix)
        router.api_resolver = serving
    return described.get_openapi_json_schema(
        title="MetaTrader trading backend API",
        version=__version__,
        description=(
            f"{SERVICE_NAME}: link MetaTrader 4/5 accounts through MetaApi, read them and trade them. "
            "Every route except /api/health needs a Cognito ID token as a bearer token."
        ),
        security_schemes={COGNITO_SCHEME: HTTPBearer(bearerFormat="JWT")},
    )

"""Several containers of one function in one process.

Lambda runs concurrent requests in separate containers, each with its own copy of the handler's
module state; the local stack imports each handler once and runs concurrent requests on threads.
What the core layer keeps per container takes threads: its cached factories and boto3 clients
are built at most twice when two threads ask at once (and the stack builds its own clients first,
so boto3's default session is ready), the market cache's and token cache's maps change one entry
at a time (the market cache is already read from several threads by `together`), and urllib3's
pool is thread-safe. Powertools' resolver is not: it keeps the event it is resolving on the router
class and the matched route in one dict on the app, so a second request would be answered with
the first one's event, or clear its route mid-request. Here each thread resolves with its own
event, context and route. (Powertools' logger keys stay shared: a log line may carry another
concurrent request's id.)"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver


def resolve_per_thread(app: ApiGatewayResolver) -> None:
    """Gives `app` per-thread request state (once)."""
    resolver = type(app)
    if getattr(resolver, "resolves_per_thread", False):
        return
    state = threading.local()
    shared_context: dict[str, Any] = vars(app).get("context", {})

    def current_event(_: Any) -> Any:
        return state.current_event

    def lambda_context(_: Any) -> Any:
        return state.lambda_context

    def context(_: Any) -> dict[str, Any]:
        if not hasattr(state, "context"):
            state.context = dict(shared_context)
        routing: dict[str, Any] = state.context
        return routing

    def set_context(_: Any, value: dict[str, Any]) -> None:
        state.context = value

    def resolve(self: ApiGatewayResolver, event: Mapping[str, Any], lambda_context: Any) -> dict[str, Any]:
        state.current_event = self._to_proxy_event(dict(event))
        state.lambda_context = lambda_context
        answer: dict[str, Any] = resolver.resolve(self, event, lambda_context)
        return answer

    per_thread = type(
        resolver.__name__,
        (resolver,),
        {
            "resolves_per_thread": True,
            # Powertools also sets these on its router class; this app reads its thread's own.
            "current_event": property(current_event, lambda _, value: setattr(state, "current_event", value)),
            "lambda_context": property(
                lambda_context, lambda _, value: setattr(state, "lambda_context", value)
            ),
            "context": property(context, set_context),
            "resolve": resolve,
        },
    )
    app.__class__ = per_thread

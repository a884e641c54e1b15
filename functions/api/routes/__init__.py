"""Route groups of the API, each a Powertools Router in its own module.

A module is imported, and its routes registered, when the first request that may need it
arrives: a new container then loads only the models and logic of the routes it serves."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from functions.api.openapi import API_PREFIX, METATRADER_PREFIX

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayRouter

# Every route module, in the order the API description lists them, and the prefix of its paths.
ROUTE_MODULES: dict[str, str] = {
    "health": API_PREFIX,
    "accounts": METATRADER_PREFIX,
    "provisioning": METATRADER_PREFIX,
    "market": METATRADER_PREFIX,
    "settings": METATRADER_PREFIX,
    "trading": METATRADER_PREFIX,
    "risk": METATRADER_PREFIX,
    "sync": METATRADER_PREFIX,
    "webhooks": METATRADER_PREFIX,
    "events": METATRADER_PREFIX,
    "notifications": METATRADER_PREFIX,
}
EVERY_MODULE = tuple(ROUTE_MODULES)
# The modules with routes under /api/metatrader/<segment>, and under .../accounts/<id>/<segment>.
_BY_SEGMENT: dict[str, tuple[str, ...]] = {
    "settings": ("settings", "notifications"),
    "risk": ("risk",),
    "webhooks": ("webhooks",),
    "events": ("events",),
}
_BY_ACCOUNT_SEGMENT: dict[str, tuple[str, ...]] = {
    "positions": ("market", "trading", "sync"),
    "symbols": ("market",),
    "quotes": ("market",),
    "orders": ("trading",),
    "trades": ("trading",),
    "risk": ("risk",),
    "sync": ("sync",),
    "history": ("sync",),
    "deploy": ("provisioning",),
    "undeploy": ("provisioning",),
    "redeploy": ("provisioning",),
    "test": ("provisioning",),
    "configuration-link": ("provisioning",),
}


def modules_for(path: str) -> tuple[str, ...]:
    """The route modules holding every route `path` may match. A path none of them claims gets
    every module, so its 404 is decided with all routes in place, as for a path they do claim."""
    if path == f"{API_PREFIX}/health":
        return ("health",)
    if not path.startswith(f"{METATRADER_PREFIX}/"):
        return EVERY_MODULE
    segments = path.removeprefix(f"{METATRADER_PREFIX}/").split("/")
    if segments[0] != "accounts":
        return _BY_SEGMENT.get(segments[0], EVERY_MODULE)
    if len(segments) <= 2:
        return ("accounts",)
    return _BY_ACCOUNT_SEGMENT.get(segments[2], EVERY_MODULE)


def router_of(module: str) -> APIGatewayRouter:
    router: APIGatewayRouter = importlib.import_module(f"{__name__}.{module}").router
    return router

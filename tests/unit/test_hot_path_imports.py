"""Hot-path handlers keep their cold start lean. A container's init imports the handler, which
loads Powertools' logger and metrics only: its function's work (`invocation`: the logic, pydantic,
boto3) loads with the first invocation. Nothing a first call loads (the MetaApi SDK, boto3,
requests) is loaded at init, nor anything no call needs: the X-Ray SDK (calls are timed by our own
hooks, traces are Lambda's), pydantic-settings, Powertools' OpenAPI models (only the API
description needs them). The API registers its route modules as requests first need them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from functions.api.openapi import API_PREFIX
from functions.api.routes import EVERY_MODULE, ROUTE_MODULES, modules_for, router_of

ROOT = Path(__file__).resolve().parents[2]
HOT_PATH = (
    "functions.api.handler",
    "functions.executor.handler",
    "functions.sync_worker.handler",
    "functions.sync_scheduler.handler",
    "functions.trade_events.handler",
    "functions.webhook.handler",
    "functions.trade_timer.handler",
    "functions.broadcaster.handler",
    "functions.realtime.handler",
    "functions.realtime_authorizer.handler",
    "functions.price_pump.handler",
)
NOT_ON_THE_HOT_PATH = {"metaapi_cloud_sdk", "boto3", "requests", "aws_xray_sdk", "pydantic_settings"}
OPENAPI_MODELS = "aws_lambda_powertools.event_handler.openapi.models"
_PROBE = "import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"


def _loaded_by_importing(module: str) -> set[str]:
    probe = [sys.executable, "-c", _PROBE.format(module=module)]
    out = subprocess.run(probe, cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("module", HOT_PATH)
def test_importing_a_hot_path_handler_loads_none_of_what_its_first_calls_load(module: str) -> None:
    loaded = _loaded_by_importing(module)

    assert module in loaded
    assert {name.split(".")[0] for name in loaded}.isdisjoint(NOT_ON_THE_HOT_PATH)
    assert OPENAPI_MODELS not in loaded
    function = module.removesuffix(".handler")
    own = {name for name in loaded if name.split(".")[0] in {"functions", "mtcore"}}
    assert own == {"functions", function, module, "mtcore", "mtcore.observability"}
    assert "pydantic" not in loaded


@pytest.mark.parametrize("module", EVERY_MODULE)
def test_no_route_of_the_api_loads_the_metaapi_sdk(module: str) -> None:
    # Creating, deploying and removing accounts is queued for the provisioning function.
    loaded = _loaded_by_importing(f"functions.api.routes.{module}")

    assert "metaapi_cloud_sdk" not in {name.split(".")[0] for name in loaded}


def test_the_provisioning_function_loads_the_sdk_with_its_first_message_not_at_init() -> None:
    at_init = _loaded_by_importing("functions.provisioning.handler")
    first_message = _loaded_by_importing("functions.provisioning.invocation")

    assert "metaapi_cloud_sdk" not in {name.split(".")[0] for name in at_init}
    assert "pydantic" not in at_init
    assert "mtcore.provisioning.metaapi_sdk" in first_message


def test_the_api_registers_no_route_module_before_its_first_request() -> None:
    loaded = _loaded_by_importing("functions.api.resolver")

    assert not {name for name in loaded if name.startswith("functions.api.routes.")}


def _sample(rule: str) -> str:
    return re.sub(r"<\w+>", "x", rule)


def _pattern(rule: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"<\w+>", "[^/]+", rule) + "$")


ROUTES = [
    (module, method, f"{ROUTE_MODULES[module]}{key[0]}")
    for module in EVERY_MODULE
    for key in router_of(module)._routes
    for method in key[1]
]


@pytest.mark.parametrize(("module", "method", "rule"), ROUTES, ids=[f"{m} {r}" for _, m, r in ROUTES])
def test_a_request_registers_every_module_with_a_route_it_may_match(
    module: str, method: str, rule: str
) -> None:
    # Every route a request may match comes from one module: the order in which modules were
    # registered then never decides which route answers.
    path = _sample(rule)
    matching = {other for other, verb, pattern in ROUTES if verb == method and _pattern(pattern).match(path)}

    assert matching == {module}
    assert module in modules_for(path)


@pytest.mark.parametrize(
    "path",
    ["/api/nowhere", "/api/metatrader", "/api/metatrader/nowhere", "/api/metatrader/accounts/x/nowhere/y"],
)
def test_a_path_no_module_claims_is_decided_with_every_route(path: str) -> None:
    assert modules_for(path) == EVERY_MODULE


def test_every_route_module_is_listed() -> None:
    modules = {path.stem for path in (ROOT / "functions" / "api" / "routes").glob("*.py")} - {"__init__"}

    assert set(ROUTE_MODULES) == modules
    assert ROUTE_MODULES["health"] == API_PREFIX

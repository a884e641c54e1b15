from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra.app import build_app

# No asset bundling in tests: no Docker, no dependency download; the template is what is tested.
NO_BUNDLING: dict[str, Any] = {"aws:cdk:bundling-stacks": []}


def synthesize(context: dict[str, Any] | None = None) -> Template:
    """The stack's template. cdk-nag is registered on the app, so this raises on any finding
    that is not acknowledged with a reason: every infra test is also the nag gate."""
    _, stack = build_app({**NO_BUNDLING, **(context or {})})
    return Template.from_stack(stack)


@pytest.fixture(scope="session")
def template() -> Template:
    return synthesize()


@pytest.fixture(scope="session")
def resources(template: Template) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = template.to_json()["Resources"]
    return found

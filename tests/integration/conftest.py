"""Real handlers in-process against moto, with tables and secrets created from the synthesized
CDK template and the function's environment taken from it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local.gateway import LambdaContext
from infra.local.resources import LocalResources, create_resources, function_environment
from infra.synth import synthesized_template

API_HANDLER = "functions.api.handler.lambda_handler"


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return synthesized_template()


@pytest.fixture
def aws(template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalResources]:
    with mock_aws():
        resources = create_resources(
            template, dynamodb=boto3.client("dynamodb"), secretsmanager=boto3.client("secretsmanager")
        )
        for name, value in function_environment(template, API_HANDLER, resources).items():
            monkeypatch.setenv(name, value)
        yield resources


@dataclass
class Answer:
    status: int
    headers: dict[str, list[str]]
    body: Any


@dataclass
class Api:
    """Calls the API function the way API Gateway does, with or without a signed-in user."""

    last_request_id: str = ""

    def call(
        self,
        method: str,
        path: str,
        *,
        user: str | None = None,
        query: dict[str, str] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        from functions.api.handler import lambda_handler

        public = path == "/api/health"
        self.last_request_id = str(uuid.uuid4())
        context: dict[str, Any] = {
            "requestId": self.last_request_id,
            "stage": "local",
            "resourcePath": path if public else "/api/{proxy+}",
            "httpMethod": method,
            "identity": {"sourceIp": "127.0.0.1"},
        }
        if user is not None:
            context["authorizer"] = {"claims": {"sub": user}}
        event = {
            "resource": context["resourcePath"],
            "path": path,
            "httpMethod": method,
            "headers": headers or {},
            "multiValueHeaders": {name: [value] for name, value in (headers or {}).items()},
            "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": None if public else {"proxy": path.removeprefix("/api/")},
            "requestContext": context,
            "body": json.dumps(body) if body is not None else None,
            "isBase64Encoded": False,
        }
        result = lambda_handler(event, LambdaContext("api", deadline_s=float("inf"), aws_request_id="test"))
        headers_out = {name: [value] for name, value in (result.get("headers") or {}).items()}
        headers_out.update(result.get("multiValueHeaders") or {})
        return Answer(
            result["statusCode"], headers_out, json.loads(result["body"]) if result["body"] else None
        )


@pytest.fixture
def api(aws: LocalResources) -> Api:
    return Api()

"""Starts the local stack: AWS from moto's server, resources from the synthesized template, the
real API handler behind the local gateway."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from infra.synth import LOCAL_STAGE, synthesized_template

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer
    from werkzeug.serving import BaseWSGIServer

API_HANDLER = "functions.api.handler.lambda_handler"
LOCAL_REGION = "us-east-1"


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def point_sdk_at(endpoint: str) -> None:
    """Every boto3 client in this process talks to the emulator with throwaway credentials,
    whatever AWS configuration the machine has: the local stack never reaches real AWS."""
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "AWS_DEFAULT_REGION": LOCAL_REGION,
            "AWS_REGION": LOCAL_REGION,
        }
    )


@dataclass
class LocalStack:
    host: str = "127.0.0.1"
    api_port: int = 3000
    aws_port: int = 0
    cors_allow_origins: list[str] = field(default_factory=lambda: ["*"])
    _aws: ThreadedMotoServer | None = None
    _api: BaseWSGIServer | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def aws_url(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    def start(self) -> None:
        import boto3
        from moto.server import ThreadedMotoServer
        from werkzeug.serving import make_server

        from infra.local.gateway import LocalGateway
        from infra.local.resources import create_resources, function_environment
        from infra.local.tokens import DevTokens

        template = synthesized_template()
        self.aws_port = self.aws_port or free_port(self.host)
        self._aws = ThreadedMotoServer(ip_address=self.host, port=self.aws_port, verbose=False)
        self._aws.start()
        point_sdk_at(self.aws_url)
        resources = create_resources(
            template, dynamodb=boto3.client("dynamodb"), secretsmanager=boto3.client("secretsmanager")
        )
        os.environ.update(function_environment(template, API_HANDLER, resources))
        os.environ["CORS_ALLOW_ORIGINS"] = ",".join(self.cors_allow_origins)
        # Local runs: no X-Ray daemon and no CloudWatch metrics to ship.
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

        from functions.api.handler import lambda_handler
        from functions.api.resolver import openapi_json

        gateway = LocalGateway(
            lambda_handler,
            tokens=DevTokens(),
            stage=LOCAL_STAGE,
            cors_allow_origins=self.cors_allow_origins,
            openapi=openapi_json,
        )
        self._api = make_server(self.host, self.api_port, gateway, threaded=True)
        self.api_port = self._api.server_port

    def serve_forever(self) -> None:
        assert self._api is not None, "start() first"
        self._api.serve_forever()

    def stop(self) -> None:
        if self._api is not None:
            self._api.server_close()
        if self._aws is not None:
            self._aws.stop()

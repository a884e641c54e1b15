"""Secrets Manager entries. Values are never in the template: operators put them in after deploy."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.nag import accept


class Secrets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        self.platform_metaapi_token = secretsmanager.Secret(
            self,
            "PlatformMetaApiToken",
            secret_name=f"mt-backend/{stage}/metaapi/platform-token",
            description="The platform's MetaApi token (auth-token header), used when a user stored none",
            removal_policy=RemovalPolicy.RETAIN,
        )
        accept(
            self.platform_metaapi_token,
            "AwsSolutions-SMG4",
            "MetaApi tokens are issued in MetaApi's console; no rotation function can mint one. "
            "Operators rotate by putting a new value (see docs/deployment.md).",
        )

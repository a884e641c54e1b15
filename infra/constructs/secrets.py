"""Secrets Manager entries. Values are never in the template: operators and users put them in."""

from __future__ import annotations

from aws_cdk import Arn, ArnComponents, ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.nag import accept

# Users' own tokens: one secret per user under a name prefix.
_READ_USER_TOKENS = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
_MANAGE_USER_TOKENS = [
    *_READ_USER_TOKENS,
    "secretsmanager:CreateSecret",
    "secretsmanager:PutSecretValue",
    "secretsmanager:DeleteSecret",
]
# MetaTrader passwords on their way to MetaApi: the API stores one, the provisioning worker reads
# and deletes it.
_STORE_PASSWORDS = ["secretsmanager:CreateSecret", "secretsmanager:PutSecretValue"]
_TAKE_PASSWORDS = ["secretsmanager:GetSecretValue", "secretsmanager:DeleteSecret"]


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
        self.user_token_prefix = f"mt-backend/{stage}/users"
        self.password_prefix = f"mt-backend/{stage}/provisioning"

    def grant_user_tokens(self, grantee: iam.IGrantable, *, manage: bool = False) -> None:
        """Read users' own MetaApi tokens; with `manage`, also create, replace and delete them."""
        self._grant_prefix(
            grantee,
            self.user_token_prefix,
            _MANAGE_USER_TOKENS if manage else _READ_USER_TOKENS,
            "Each user's MetaApi token is its own secret, created when the user stores it; the "
            "permission is limited to this stage's user-token name prefix.",
        )

    def grant_pending_passwords(self, grantee: iam.IGrantable, *, store: bool) -> None:
        """Store MetaTrader passwords on their way to MetaApi (`store`), or read and delete them."""
        self._grant_prefix(
            grantee,
            self.password_prefix,
            _STORE_PASSWORDS if store else _TAKE_PASSWORDS,
            "Each MetaTrader password waits for MetaApi in a secret of its own, created per account "
            "being created and deleted once MetaApi has it; the permission is limited to this stage's "
            "provisioning name prefix.",
        )

    def _grant_prefix(self, grantee: iam.IGrantable, prefix: str, actions: list[str], reason: str) -> None:
        # These secrets are created at run time, so there is no construct to grant on: the
        # permission is scoped by name prefix instead.
        # ArnComponents, not a dict: jsii drops a dict's snake_case keys, leaving no resource name.
        resource = Arn.format(
            ArnComponents(
                service="secretsmanager",
                resource="secret",
                resource_name=f"{prefix}/*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            ),
            Stack.of(self),
        )
        iam.Grant.add_to_principal(grantee=grantee, actions=actions, resource_arns=[resource])
        role = grantee.grant_principal
        if isinstance(role, iam.Role):
            accept(
                role,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:"
                f"<AWS::AccountId>:secret:{prefix}/*]",
                reason,
            )

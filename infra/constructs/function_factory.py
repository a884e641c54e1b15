"""One place for the defaults every Lambda function shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.nag import accept
from mtcore.settings import Env

if TYPE_CHECKING:
    from infra.config import StageConfig
    from infra.constructs.packaging import Packaging

SERVICE_NAME = "mt-backend"
METRICS_NAMESPACE = "MtBackend"


class FunctionFactory(Construct):
    """Builds functions on arm64 / Python 3.13 with JSON logs, X-Ray tracing, Powertools settings,
    a log group with the stage's retention, the shared code asset and the layers."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, packaging: Packaging
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._packaging = packaging

    def create(
        self,
        construct_id: str,
        *,
        handler: str,
        description: str,
        timeout: Duration,
        memory_size: int = 512,
        environment: dict[str, str] | None = None,
        metaapi_sdk: bool = False,
    ) -> lambda_.Function:
        """`metaapi_sdk`: with the MetaApi SDK's layer (the control plane only)."""
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            retention=self._config.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # An own role with write access to its own log group only, instead of the managed
        # AWSLambdaBasicExecutionRole, which may write to every log group in the account.
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs {construct_id}",
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            construct_id,
            role=role,
            description=description,
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler,
            code=self._packaging.function_code,
            layers=self._packaging.layers(sdk=metaapi_sdk),
            timeout=timeout,
            memory_size=memory_size,
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            log_group=log_group,
            environment={
                Env.STAGE: self._config.stage,
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **(environment or {}),
            },
        )
        accept(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing: xray:PutTraceSegments and PutTelemetryRecords support no resource-level scoping.",
        )
        accept(
            function,
            "AwsSolutions-L1",
            "Python 3.13 is the runtime the dependencies layer is built for "
            "(packaging.LAMBDA_PYTHON_VERSION); the two move together.",
        )
        return function

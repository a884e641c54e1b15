"""The REST API: its function, Cognito-authorized routes under /api, a public health check, JSON
errors even for answers API Gateway gives by itself, throttling, and access logs without query
strings."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.api_contract import (
    API_ROOT,
    CORS_ALLOW_HEADERS,
    GATEWAY_ERRORS,
    TELEGRAM_WEBHOOK_RESOURCE,
    WEBHOOK_INTAKE_RESOURCE,
)
from infra.nag import accept

if TYPE_CHECKING:
    from aws_cdk import aws_cognito as cognito
    from aws_cdk import aws_lambda as lambda_

    from infra.config import StageConfig
    from infra.constructs.function_factory import FunctionFactory

# Below API Gateway's 29 s integration limit, so callers get our JSON error, never a gateway 504.
API_FUNCTION_TIMEOUT = Duration.seconds(25)

# Only request metadata: no query strings, headers or bodies, which may carry tokens.
_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "user": "$context.authorizer.claims.sub",
    "time": "$context.requestTime",
    "method": "$context.httpMethod",
    "resource": "$context.resourcePath",
    "status": "$context.status",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "responseLength": "$context.responseLength",
}


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        functions: FunctionFactory,
        environment: dict[str, str],
        user_pool: cognito.IUserPool,
        webhook_intake: lambda_.IFunction,
        telegram_webhook: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function: lambda_.Function = functions.create(
            "ApiFunction",
            handler="functions.api.handler.lambda_handler",
            description="HTTPS API for the dashboard",
            timeout=API_FUNCTION_TIMEOUT,
            environment=environment,
        )
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"mt-backend-{config.stage}",
            description="MetaTrader trading backend API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.DESTROY,
            deploy_options=apigw.StageOptions(
                stage_name=config.stage,
                throttling_rate_limit=config.api_rate_limit,
                throttling_burst_limit=config.api_burst_limit,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(_ACCESS_LOG_FIELDS)),
                # The public intake has its own, lower limit: a flood there never starves the API.
                method_options={
                    f"{resource}/POST": apigw.MethodDeploymentOptions(
                        throttling_rate_limit=config.webhook_rate_limit,
                        throttling_burst_limit=config.webhook_burst_limit,
                    )
                    for resource in (WEBHOOK_INTAKE_RESOURCE, TELEGRAM_WEBHOOK_RESOURCE)
                },
            ),
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=config.cors_allow_origins,
                allow_methods=apigw.Cors.ALL_METHODS,
                allow_headers=CORS_ALLOW_HEADERS,
            ),
        )
        self._add_gateway_errors(config)
        accept(
            self.rest_api,
            "AwsSolutions-APIG2",
            "Every request is validated by the handler against its OpenAPI models and answered with a 422 "
            "naming the field; a gateway validator would duplicate that contract.",
        )
        accept(
            self.rest_api,
            "AwsSolutions-APIG3",
            "Stage throttling and the Cognito authorizer guard the API; "
            "a WAF web ACL is an optional per-stage cost.",
        )
        accept(
            self.rest_api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level logging role; this managed policy is the documented one for it.",
        )

        authorizer = apigw.CognitoUserPoolsAuthorizer(self, "Authorizer", cognito_user_pools=[user_pool])
        integration = apigw.LambdaIntegration(self.function, proxy=True)
        api = self.rest_api.root.add_resource(API_ROOT)
        health = api.add_resource("health").add_method("GET", integration)
        for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
            accept(
                health, rule, "The health check is public by design: it reads nothing and returns no data."
            )
        intake = (
            api.add_resource("webhooks")
            .add_resource("{id}")
            .add_method("POST", apigw.LambdaIntegration(webhook_intake, proxy=True))
        )
        for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
            accept(
                intake,
                rule,
                "Webhook senders (TradingView) cannot sign in: each webhook authenticates them itself "
                "(its secret, optional IP allow list and HMAC), under this method's own throttling.",
            )
        bot = (
            api.add_resource("telegram")
            .add_resource("webhook")
            .add_method("POST", apigw.LambdaIntegration(telegram_webhook, proxy=True))
        )
        for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
            accept(
                bot,
                rule,
                "Telegram cannot sign in: it proves itself with the secret token set with setWebhook "
                "(X-Telegram-Bot-Api-Secret-Token), checked by the function, under this method's throttling.",
            )
        api.add_resource("{proxy+}").add_method(
            "ANY",
            integration,
            authorizer=authorizer,
            authorization_type=apigw.AuthorizationType.COGNITO,
        )

    def _add_gateway_errors(self, config: StageConfig) -> None:
        allow_origin = "*" if "*" in config.cors_allow_origins else config.cors_allow_origins[0]
        for error in GATEWAY_ERRORS:
            self.rest_api.add_gateway_response(
                f"{error.code.title().replace('_', '')}{error.status}",
                type=getattr(apigw.ResponseType, error.response_type),
                status_code=str(error.status),
                response_headers={"Access-Control-Allow-Origin": f"'{allow_origin}'"},
                templates={"application/json": json.dumps({"code": error.code, "message": error.message})},
            )

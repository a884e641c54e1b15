from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from infra.api_contract import GATEWAY_ERRORS
from infra.app import build_app
from mtcore.notifications.messages import NOTIFIED_DETAIL_TYPES
from mtcore.notifications.repository import DELIVERY_STUCK
from mtcore.provisioning.queue import MAX_RECEIVES
from mtcore.settings import Settings
from mtcore.trading.executor import ExecutorPolicy
from tests.infra.conftest import NO_BUNDLING, synthesize


def _of_type(resources: dict[str, dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in resources.items() if r["Type"] == kind}


def test_table_is_on_demand_encrypted_recoverable_and_expires_items(template: Template) -> None:
    # The data, the idempotency keys and the WebSocket connections.
    template.resource_count_is("AWS::DynamoDB::GlobalTable", 3)
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
            "Replicas": [
                Match.object_like(
                    {
                        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                        "DeletionProtectionEnabled": True,
                    }
                )
            ],
        },
    )
    template.has_resource("AWS::DynamoDB::GlobalTable", {"DeletionPolicy": "Retain"})


def test_every_function_runs_python_313_on_arm64_with_tracing_and_json_logs(
    resources: dict[str, dict[str, Any]],
) -> None:
    functions = _of_type(resources, "AWS::Lambda::Function")
    assert functions
    for name, function in functions.items():
        assert function["Runtime"] == "python3.13", name
        assert function["Architectures"] == ["arm64"], name
        assert function["TracingConfig"] == {"Mode": "Active"}, name
        assert function["LoggingConfig"]["LogFormat"] == "JSON", name
        assert "LogGroup" in function["LoggingConfig"], name


def test_every_function_of_ours_is_given_every_setting_that_has_no_default(
    resources: dict[str, dict[str, Any]],
) -> None:
    # The local stack runs every function in one process with one merged environment, so a
    # function missing a required setting fails only once deployed: this is where it is caught.
    required = {name.upper() for name, field in Settings.model_fields.items() if field.is_required()}
    assert required
    ours = {
        name: function
        for name, function in _of_type(resources, "AWS::Lambda::Function").items()
        if function.get("Handler", "").startswith("functions.")
    }
    assert len(ours) >= 15
    for name, function in ours.items():
        assert required <= set(function["Environment"]["Variables"]), name


def test_only_the_provisioning_function_carries_the_metaapi_sdk(resources: dict[str, dict[str, Any]]) -> None:
    layers = {
        name: [ref["Ref"] for ref in function["Layers"]]
        for name, function in _of_type(resources, "AWS::Lambda::Function").items()
    }
    with_sdk = {
        name for name, refs in layers.items() if any(ref.startswith("PackagingMetaApiSdk") for ref in refs)
    }

    assert len(with_sdk) == 1
    assert next(iter(with_sdk)).startswith("FunctionsProvisioningFunction")
    for name, refs in layers.items():
        # Dependencies first, our own code last, so the core layer's mtcore is the one imported.
        assert refs[0].startswith("PackagingDependenciesLayer"), name
        assert refs[-1].startswith("PackagingCoreLayer"), name
        assert len(refs) == (3 if name in with_sdk else 2), name


def test_api_function_answers_before_api_gateway_gives_up(resources: dict[str, dict[str, Any]]) -> None:
    api_functions = [
        f for f in _of_type(resources, "AWS::Lambda::Function").values()
        if f["Handler"] == "functions.api.handler.lambda_handler"
    ]  # fmt: skip
    assert len(api_functions) == 1
    assert api_functions[0]["Timeout"] < 29


def test_every_log_group_has_retention(resources: dict[str, dict[str, Any]]) -> None:
    groups = _of_type(resources, "AWS::Logs::LogGroup")
    assert len(groups) >= 2  # the API function's and the access log
    assert all(group["RetentionInDays"] == 30 for group in groups.values())


def test_functions_write_only_their_own_log_group(resources: dict[str, dict[str, Any]]) -> None:
    roles = _of_type(resources, "AWS::IAM::Role")
    lambda_roles = [
        role
        for role in roles.values()
        if role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"].get("Service")
        == "lambda.amazonaws.com"
    ]
    assert lambda_roles
    assert all("ManagedPolicyArns" not in role for role in lambda_roles)


def _methods(resources: dict[str, dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    paths: dict[str, str] = {}
    api_resources = _of_type(resources, "AWS::ApiGateway::Resource")

    def path_of(ref: Any) -> str:
        if isinstance(ref, dict) and "Ref" in ref and ref["Ref"] in api_resources:
            logical = ref["Ref"]
            if logical not in paths:
                parent = path_of(api_resources[logical]["ParentId"])
                paths[logical] = f"{parent}/{api_resources[logical]['PathPart']}"
            return paths[logical]
        return ""  # the API's root resource

    return [
        (method["HttpMethod"], path_of(method["ResourceId"]) or "/", method)
        for method in _of_type(resources, "AWS::ApiGateway::Method").values()
    ]


def test_every_route_but_health_the_webhook_intake_and_preflight_uses_the_cognito_authorizer(
    resources: dict[str, dict[str, Any]],
) -> None:
    methods = _methods(resources)
    public = {(verb, path) for verb, path, m in methods if m.get("AuthorizationType", "NONE") == "NONE"}
    guarded = [(verb, path, m) for verb, path, m in methods if (verb, path) not in public]

    assert {(verb, path) for verb, path in public if verb != "OPTIONS"} == {
        ("GET", "/api/health"),
        ("POST", "/api/webhooks/{id}"),
        ("POST", "/api/telegram/webhook"),
    }
    assert ("ANY", "/api/{proxy+}") in {(verb, path) for verb, path, _ in guarded}
    for verb, path, method in guarded:
        assert method["AuthorizationType"] == "COGNITO_USER_POOLS", f"{verb} {path}"
        assert "AuthorizerId" in method, f"{verb} {path}"


def test_the_deployed_api_has_no_dev_login_route(resources: dict[str, dict[str, Any]]) -> None:
    paths = {path for _, path, _ in _methods(resources)}
    assert not any(path.startswith("/api/dev") for path in paths)
    assert all(
        part["PathPart"] != "dev" for part in _of_type(resources, "AWS::ApiGateway::Resource").values()
    )


def test_stage_throttles_traces_and_logs_access_without_query_strings(template: Template) -> None:
    stage = next(iter(template.find_resources("AWS::ApiGateway::Stage").values()))["Properties"]
    log_format = json.loads(stage["AccessLogSetting"]["Format"])

    assert stage["TracingEnabled"] is True
    assert stage["MethodSettings"][0]["ThrottlingRateLimit"] == 50
    assert stage["MethodSettings"][0]["ThrottlingBurstLimit"] == 100
    assert stage["MethodSettings"][0]["DataTraceEnabled"] is False
    assert log_format["resource"] == "$context.resourcePath"
    assert not any(
        "$input" in v or "querystring" in v.lower() or v == "$context.path" for v in log_format.values()
    )


def test_gateway_errors_answer_in_the_api_error_shape(template: Template) -> None:
    for error in GATEWAY_ERRORS:
        template.has_resource_properties(
            "AWS::ApiGateway::GatewayResponse",
            {
                "ResponseType": getattr(apigw.ResponseType, error.response_type).response_type,
                "StatusCode": str(error.status),
                "ResponseTemplates": {
                    "application/json": json.dumps({"code": error.code, "message": error.message})
                },
            },
        )


def test_platform_token_secret_exists_without_a_value(
    template: Template, resources: dict[str, dict[str, Any]]
) -> None:
    secrets = _of_type(resources, "AWS::SecretsManager::Secret")
    names = sorted(secret["Name"] for secret in secrets.values())
    assert names == [
        "mt-backend/dev/metaapi/platform-token",
        "mt-backend/dev/telegram/bot-token",
        "mt-backend/dev/telegram/webhook-secret",
    ]
    secret = next(s for s in secrets.values() if s["Name"].endswith("platform-token"))
    assert "SecretString" not in secret
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like({"PLATFORM_TOKEN_SECRET_ID": {"Ref": Match.any_value()}})
            }
        },
    )


def test_user_pool_requires_mfa_and_strong_passwords(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "MfaConfiguration": "ON",
            "Policies": {"PasswordPolicy": Match.object_like({"MinimumLength": 12})},
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
        },
    )


def test_stage_settings_come_from_context() -> None:
    template = synthesize(
        {
            "stage": "prod",
            "corsAllowOrigins": "https://app.example.com",
            "logRetentionDays": 365,
            "apiRateLimit": 20,
        }
    )

    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like(
                    {"STAGE": "prod", "CORS_ALLOW_ORIGINS": "https://app.example.com"}
                )
            }
        },
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 365})
    template.has_resource_properties("AWS::ApiGateway::Stage", {"StageName": "prod"})


def test_an_invalid_retention_is_refused_at_synth() -> None:
    with pytest.raises(ValueError, match="logRetentionDays"):
        build_app({**NO_BUNDLING, "logRetentionDays": 12})


def test_the_nag_gate_fails_on_an_unacknowledged_finding() -> None:
    # Given the app as the stack builds it, plus one resource nobody vouched for
    _, stack = build_app(NO_BUNDLING)
    s3.Bucket(Stack.of(stack), "UnreviewedBucket")

    # Then synthesizing fails: findings are errors unless acknowledged with a reason
    with pytest.raises(RuntimeError, match=r"ValidationFailed|Validation failed"):
        Template.from_stack(stack)


def test_idempotency_keys_expire(template: Template) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
        },
    )


def test_orders_queue_is_fifo_with_a_dead_letter_queue_beyond_the_executors_budget(
    resources: dict[str, dict[str, Any]],
) -> None:
    queues = {
        name: q
        for name, q in _of_type(resources, "AWS::SQS::Queue").items()
        if name.startswith(("TradingOrders", "TradingOrderDeadLetters"))
    }
    orders = [q for q in queues.values() if "RedrivePolicy" in q]
    assert len(queues) == 2
    assert len(orders) == 1
    assert all(queue["FifoQueue"] is True for queue in queues.values())
    assert all(queue["SqsManagedSseEnabled"] is True for queue in queues.values())
    assert orders[0]["ContentBasedDeduplication"] is False
    assert orders[0]["RedrivePolicy"]["maxReceiveCount"] == 30


def test_a_parked_trade_waits_in_a_standard_timer_queue_the_executor_feeds(
    resources: dict[str, dict[str, Any]],
) -> None:
    """FIFO queues delay no single message; a standard queue does, up to 15 minutes."""
    queues = _of_type(resources, "AWS::SQS::Queue")
    timer_name, timer = next(
        (n, q) for n, q in queues.items() if n.startswith("TradingTradeTimer") and "RedrivePolicy" in q
    )
    functions = _of_type(resources, "AWS::Lambda::Function")
    by_handler = {f["Handler"]: (name, f) for name, f in functions.items()}
    executor = by_handler["functions.executor.handler.lambda_handler"][1]
    timer_function_name, timer_function = by_handler["functions.trade_timer.handler.lambda_handler"]
    mapping = next(
        m
        for m in _of_type(resources, "AWS::Lambda::EventSourceMapping").values()
        if m["FunctionName"] == {"Ref": timer_function_name}
    )
    roles = {f["Role"]["Fn::GetAtt"][0]: f["Handler"] for f in functions.values()}
    senders = {
        roles[role["Ref"]]
        for policy in _of_type(resources, "AWS::IAM::Policy").values()
        for statement in policy["PolicyDocument"]["Statement"]
        if "sqs:SendMessage" in statement["Action"]
        and statement["Resource"] == {"Fn::GetAtt": [timer_name, "Arn"]}
        for role in policy["Roles"]
    }

    assert "FifoQueue" not in timer
    assert timer["SqsManagedSseEnabled"] is True
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [timer_name, "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert executor["Environment"]["Variables"]["TRADE_TIMER_QUEUE_URL"] == {"Ref": timer_name}
    assert timer_function["Environment"]["Variables"]["TRADE_TIMER_QUEUE_URL"] == {"Ref": timer_name}
    assert senders == {
        "functions.executor.handler.lambda_handler",
        "functions.trade_timer.handler.lambda_handler",
    }


def test_an_executor_batch_always_fits_its_timeout(resources: dict[str, dict[str, Any]]) -> None:
    functions = _of_type(resources, "AWS::Lambda::Function")
    executor_name, executor = next(
        (name, f)
        for name, f in functions.items()
        if f["Handler"] == "functions.executor.handler.lambda_handler"
    )
    mapping = next(
        m
        for m in _of_type(resources, "AWS::Lambda::EventSourceMapping").values()
        if m["FunctionName"] == {"Ref": executor_name}
    )
    queue_visibility = next(
        q["VisibilityTimeout"]
        for name, q in _of_type(resources, "AWS::SQS::Queue").items()
        if name.startswith("TradingOrders")
    )

    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # Every record may take its longest delivery, with room left for DynamoDB and the handler.
    assert mapping["BatchSize"] * ExecutorPolicy().delivery_seconds() + 15 <= executor["Timeout"]
    assert queue_visibility >= executor["Timeout"]
    # A record left in flight behind a failed one of its group would block the account's group.
    assert mapping["BatchSize"] == 1


def _secret_statements(resources: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(the policy's role, the statement) for every statement about secrets created at run time."""
    return [
        (policy["Roles"][0]["Ref"], statement)
        for policy in _of_type(resources, "AWS::IAM::Policy").values()
        for statement in policy["PolicyDocument"]["Statement"]
        if "Fn::Join" in json.dumps(statement.get("Resource")) and "secretsmanager:" in json.dumps(statement)
    ]


def _prefix_of(statement: dict[str, Any]) -> str:
    return str(statement["Resource"]["Fn::Join"][1][-1])


def test_only_the_api_may_create_or_delete_user_tokens(resources: dict[str, dict[str, Any]]) -> None:
    managing = [
        (role, s)
        for role, s in _secret_statements(resources)
        if "secretsmanager:CreateSecret" in s["Action"] and _prefix_of(s).endswith("/users/*")
    ]
    assert len(managing) == 1
    assert managing[0][0].startswith("FunctionsApiFunctionRole")
    assert "secretsmanager:DeleteSecret" in managing[0][1]["Action"]


def test_passwords_on_their_way_are_stored_by_the_api_and_taken_by_the_provisioning_worker_only(
    resources: dict[str, dict[str, Any]],
) -> None:
    on_passwords = [
        (role, s) for role, s in _secret_statements(resources) if _prefix_of(s).endswith("/provisioning/*")
    ]
    by_role = {role.split("Role")[0]: sorted(s["Action"]) for role, s in on_passwords}

    assert by_role == {
        "FunctionsApiFunction": ["secretsmanager:CreateSecret", "secretsmanager:PutSecretValue"],
        "FunctionsProvisioningFunction": ["secretsmanager:DeleteSecret", "secretsmanager:GetSecretValue"],
    }


def test_account_operations_run_through_a_fifo_queue_with_dead_letters_beyond_the_workers_looks(
    resources: dict[str, dict[str, Any]],
) -> None:
    queues = _of_type(resources, "AWS::SQS::Queue")
    operations = next(q for name, q in queues.items() if name.startswith("ProvisioningOperations"))
    worker_name, worker = next(
        (name, f)
        for name, f in _of_type(resources, "AWS::Lambda::Function").items()
        if f["Handler"] == "functions.provisioning.handler.lambda_handler"
    )
    mapping = next(
        m
        for m in _of_type(resources, "AWS::Lambda::EventSourceMapping").values()
        if m["FunctionName"] == {"Ref": worker_name}
    )

    assert operations["FifoQueue"] is True
    assert operations["ContentBasedDeduplication"] is False
    assert operations["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVES
    assert operations["VisibilityTimeout"] >= worker["Timeout"]
    assert mapping["BatchSize"] == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert set(worker["Environment"]["Variables"]) >= {
        "PROVISIONING_QUEUE_URL",
        "PASSWORD_SECRET_PREFIX",
        "PROVISIONING_CONNECT_TIMEOUT_S",
        "PLATFORM_TOKEN_SECRET_ID",
        "TABLE_NAME",
    }
    api = next(
        f for f in _of_type(resources, "AWS::Lambda::Function").values()
        if f["Handler"] == "functions.api.handler.lambda_handler"
    )  # fmt: skip
    assert {"PROVISIONING_QUEUE_URL", "PASSWORD_SECRET_PREFIX"} <= set(api["Environment"]["Variables"])


@pytest.mark.parametrize(
    "description",
    [
        "Account operations reached the dead-letter queue: their accounts may stay in progress",
        "The provisioning worker failed invocations",
        "A failed creation could not remove the MetaApi account it had begun: remove it by hand",
        "Over 10 account operations failed in 5 minutes",
    ],
)
def test_account_operations_are_watched(template: Template, description: str) -> None:
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmDescription": description})


def test_the_sweeper_runs_every_minute_over_a_sparse_index(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Events::Rule", {"ScheduleExpression": "rate(1 minute)", "State": "ENABLED"}
    )
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "GlobalSecondaryIndexes": Match.array_with(
                [
                    Match.object_like(
                        {
                            "IndexName": "sweep",
                            "KeySchema": [
                                {"AttributeName": "sweepShard", "KeyType": "HASH"},
                                {"AttributeName": "sweepAt", "KeyType": "RANGE"},
                            ],
                            "Projection": {"ProjectionType": "KEYS_ONLY"},
                        }
                    )
                ]
            )
        },
    )


def test_every_queue_outlasts_the_function_it_feeds(resources: dict[str, dict[str, Any]]) -> None:
    queues = {name: q for name, q in resources.items() if q["Type"] == "AWS::SQS::Queue"}
    functions = _of_type(resources, "AWS::Lambda::Function")
    mappings = _of_type(resources, "AWS::Lambda::EventSourceMapping").values()
    fed = {
        mapping["FunctionName"]["Ref"]: mapping["EventSourceArn"]["Fn::GetAtt"][0]
        for mapping in mappings
        if mapping["EventSourceArn"]["Fn::GetAtt"][0] in queues
    }
    # The executor, the dead-letter consumer, the trade timer, the sync worker, the provisioning
    # worker, the broadcaster, the price pump and the two notifiers.
    assert len(fed) == 9
    for function, queue in fed.items():
        assert queues[queue]["Properties"]["VisibilityTimeout"] >= functions[function]["Timeout"], function


@pytest.mark.parametrize(
    ("metric", "threshold"),
    [
        ("ApproximateNumberOfMessagesVisible", 1),
        ("Errors", 1),
        ("ApproximateAgeOfOldestMessage", 120),
        ("TradesUnknown", 1),
    ],
)
def test_the_trade_pipeline_is_watched(template: Template, metric: str, threshold: int) -> None:
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"MetricName": metric, "Threshold": threshold})


def test_a_trade_timer_that_cannot_hand_back_raises_an_alarm(template: Template) -> None:
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmDescription": "Parked trades the trade timer could not hand back "
            "(the sweeper sends them late)",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Threshold": 1,
        },
    )


def test_trade_and_account_events_come_from_the_table_stream(template: Template) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable", {"StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"}}
    )
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "StartingPosition": "LATEST",
            "BisectBatchOnFunctionError": True,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "FilterCriteria": {
                "Filters": [
                    {
                        "Pattern": '{"dynamodb":{"NewImage":{"entity":{"S":["TRADE","POSITION",'
                        '"CLOSED_POSITION","ORDER","HISTORY_ORDER","ACCOUNT","SYNC_LOG","RISK"]}}}}'
                    }
                ]
            },
        },
    )
    template.has_resource_properties("AWS::Events::EventBus", {"Name": "mt-backend-dev"})


def test_sync_runs_on_a_schedule_over_a_sharded_due_index_with_capped_workers(
    template: Template, resources: dict[str, dict[str, Any]]
) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "GlobalSecondaryIndexes": Match.array_with(
                [
                    Match.object_like(
                        {
                            "IndexName": "syncDue",
                            "KeySchema": [
                                {"AttributeName": "syncShard", "KeyType": "HASH"},
                                {"AttributeName": "syncDueAt", "KeyType": "RANGE"},
                            ],
                        }
                    )
                ]
            )
        },
    )
    functions = _of_type(resources, "AWS::Lambda::Function")
    by_handler = {f["Handler"]: name for name, f in functions.items()}
    worker = by_handler["functions.sync_worker.handler.lambda_handler"]
    scheduler = by_handler["functions.sync_scheduler.handler.lambda_handler"]
    mapping = next(
        m
        for m in _of_type(resources, "AWS::Lambda::EventSourceMapping").values()
        if m["FunctionName"]["Ref"] == worker
    )
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 5}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # A burst of trades on an account gathers into one batch, answered by one sync.
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (10, 1)
    rules = [
        rule
        for rule in _of_type(resources, "AWS::Events::Rule").values()
        if any(target["Arn"]["Fn::GetAtt"][0] == scheduler for target in rule["Targets"])
    ]
    assert [rule["ScheduleExpression"] for rule in rules] == ["rate(1 minute)"]
    syncs = next(
        q for name, q in _of_type(resources, "AWS::SQS::Queue").items() if name.startswith("SyncSyncs")
    )
    assert "FifoQueue" not in syncs
    assert syncs["RedrivePolicy"]["maxReceiveCount"] == 5


@pytest.mark.parametrize(
    "description",
    [
        "Over a fifth of account syncs failed in five minutes",
        "Sync messages reached the dead-letter queue",
        "The sync worker was throttled",
        "An account's terminal lost its broker connection",
    ],
)
def test_sync_is_watched(template: Template, description: str) -> None:
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmDescription": description})


def test_only_the_api_the_sweeper_the_sync_worker_the_timer_and_the_webhook_intake_queue_orders(
    resources: dict[str, dict[str, Any]],
) -> None:
    """The sync worker closes everything through the order queue when a loss limit says so."""
    functions = _of_type(resources, "AWS::Lambda::Function")
    roles = {f["Role"]["Fn::GetAtt"][0]: f["Handler"] for f in functions.values()}
    orders = next(name for name in _of_type(resources, "AWS::SQS::Queue") if name.startswith("TradingOrders"))
    orders_arn = {"Fn::GetAtt": [orders, "Arn"]}
    senders = {
        roles[role["Ref"]]
        for policy in _of_type(resources, "AWS::IAM::Policy").values()
        for statement in policy["PolicyDocument"]["Statement"]
        if "sqs:SendMessage" in statement["Action"] and statement["Resource"] == orders_arn
        for role in policy["Roles"]
    }
    assert senders == {
        "functions.api.handler.lambda_handler",
        "functions.sweeper.handler.lambda_handler",
        "functions.sync_worker.handler.lambda_handler",
        "functions.trade_timer.handler.lambda_handler",
        "functions.webhook.handler.lambda_handler",
    }
    worker = next(
        f for f in functions.values() if f["Handler"] == "functions.sync_worker.handler.lambda_handler"
    )
    assert worker["Environment"]["Variables"]["TRADE_QUEUE_URL"] == {"Ref": orders}


def test_the_webhook_intake_is_its_own_function_with_its_own_throttling(
    template: Template, resources: dict[str, dict[str, Any]]
) -> None:
    functions = _of_type(resources, "AWS::Lambda::Function")
    intake_id, intake = next(
        (name, f)
        for name, f in functions.items()
        if f["Handler"] == "functions.webhook.handler.lambda_handler"
    )
    methods = {(verb, path): method for verb, path, method in _methods(resources)}
    route = methods[("POST", "/api/webhooks/{id}")]
    assert route["AuthorizationType"] == "NONE"
    assert intake_id in json.dumps(route["Integration"]["Uri"])
    # It never calls MetaApi: no token, only the table and the order queue.
    variables = intake["Environment"]["Variables"]
    assert set(variables) >= {"TABLE_NAME", "TRADE_QUEUE_URL"}
    assert "PLATFORM_TOKEN_SECRET_ID" not in variables
    assert intake.get("Timeout", 3) <= 10
    stage = next(iter(template.find_resources("AWS::ApiGateway::Stage").values()))["Properties"]
    by_path = {setting["ResourcePath"]: setting for setting in stage["MethodSettings"]}
    intake_setting = by_path["/~1api~1webhooks~1{id}"]
    assert intake_setting["HttpMethod"] == "POST"
    assert intake_setting["ThrottlingRateLimit"] == 20
    assert intake_setting["ThrottlingBurstLimit"] == 40


def test_alarms_watch_intake_errors_and_bursts_of_refused_senders(template: Template) -> None:
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    descriptions = {alarm["Properties"]["AlarmDescription"]: alarm["Properties"] for alarm in alarms.values()}
    assert "The webhook intake failed to take alerts" in descriptions
    burst = next(props for text, props in descriptions.items() if "webhook requests refused" in text)
    assert burst["MetricName"] == "SignalsUnauthorized"
    assert burst["Threshold"] == 50


def test_the_websocket_api_lets_in_only_connections_its_authorizer_allows(
    resources: dict[str, dict[str, Any]],
) -> None:
    apis = _of_type(resources, "AWS::ApiGatewayV2::Api")
    routes = {r["RouteKey"]: r for r in _of_type(resources, "AWS::ApiGatewayV2::Route").values()}
    [authorizer] = _of_type(resources, "AWS::ApiGatewayV2::Authorizer").values()

    assert [api["ProtocolType"] for api in apis.values()] == ["WEBSOCKET"]
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["IdentitySource"] == ["route.request.querystring.token"]
    [stage] = _of_type(resources, "AWS::ApiGatewayV2::Stage").values()
    assert stage["AutoDeploy"] is True
    assert "AccessLogSettings" in stage


def test_connections_expire_and_are_found_by_user_and_by_watched_prices(
    resources: dict[str, dict[str, Any]],
) -> None:
    tables = _of_type(resources, "AWS::DynamoDB::GlobalTable")
    [connections] = [t for name, t in tables.items() if name.startswith("RealtimeConnections")]

    assert connections["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    indexes = {
        index["IndexName"]: index["KeySchema"][0]["AttributeName"]
        for index in connections["GlobalSecondaryIndexes"]
    }
    assert indexes == {"byUser": "userId", "watching": "watchShard"}


def test_the_broadcaster_takes_every_trade_and_account_event_through_its_queue(
    resources: dict[str, dict[str, Any]],
) -> None:
    rules = [r for r in _of_type(resources, "AWS::Events::Rule").values() if "EventPattern" in r]
    [pushed] = [
        r for r in rules if r["Targets"][0]["Arn"]["Fn::GetAtt"][0].startswith("RealtimePushedEvents")
    ]
    functions = _of_type(resources, "AWS::Lambda::Function")
    broadcaster = next(
        name
        for name, f in functions.items()
        if f["Handler"] == "functions.broadcaster.handler.lambda_handler"
    )
    mapping = next(
        m for m in _of_type(resources, "AWS::Lambda::EventSourceMapping").values()
        if m["FunctionName"] == {"Ref": broadcaster}
    )  # fmt: skip

    assert pushed["EventPattern"] == {"source": ["mt-backend.trades", "mt-backend.accounts"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["EventSourceArn"]["Fn::GetAtt"][0].startswith("RealtimePushedEvents")


def test_the_price_pump_hands_on_before_its_timeout_and_its_queue_outlasts_it(
    resources: dict[str, dict[str, Any]],
) -> None:
    functions = _of_type(resources, "AWS::Lambda::Function")
    pump = next(
        f for f in functions.values() if f["Handler"] == "functions.price_pump.handler.lambda_handler"
    )
    queue = next(
        q
        for name, q in _of_type(resources, "AWS::SQS::Queue").items()
        if name.startswith("RealtimePricePump") and "Dead" not in name
    )

    assert float(pump["Environment"]["Variables"]["PRICE_PUMP_SECONDS"]) + 15 <= pump["Timeout"]
    assert queue["VisibilityTimeout"] >= pump["Timeout"]


def test_only_the_routes_the_broadcaster_and_the_pump_post_to_connections(
    resources: dict[str, dict[str, Any]],
) -> None:
    managing = {
        policy["Roles"][0]["Ref"].split("Role")[0]
        for policy in _of_type(resources, "AWS::IAM::Policy").values()
        for statement in policy["PolicyDocument"]["Statement"]
        if "execute-api:ManageConnections" in json.dumps(statement["Action"])
    }

    assert managing == {
        "FunctionsWebSocketFunction",
        "FunctionsBroadcasterFunction",
        "FunctionsPricePumpFunction",
    }


def test_the_stack_names_its_websocket_url(template: Template) -> None:
    template.has_output("WebSocketUrl", {})


def _pinned(requirements: str) -> set[str]:
    return {
        line.split("==")[0] for line in requirements.splitlines() if "==" in line and not line.startswith(" ")
    }


def test_the_dependencies_layer_holds_the_runtime_dependencies_and_the_sdk_layer_the_sdk() -> None:
    from infra.constructs.packaging import SDK_GROUP, locked_requirements

    runtime, sdk = _pinned(locked_requirements()), _pinned(locked_requirements(SDK_GROUP))

    assert {"aws-lambda-powertools", "boto3", "pydantic", "pyjwt", "cryptography"} <= runtime
    # Neither the SDK nor any dev tool ships to every function.
    assert runtime.isdisjoint({"metaapi-cloud-sdk", "aiohttp", "httpx", "moto", "pytest", "aws-cdk-lib"})
    assert {"metaapi-cloud-sdk", "httpx", "aiohttp"} <= sdk
    assert sdk.isdisjoint({"moto", "pytest", "aws-cdk-lib"})


@pytest.mark.parametrize(
    "description",
    [
        "Events the broadcaster could not push reached its dead-letter queue",
        "The broadcaster failed invocations",
        "The price pump failed invocations: live prices may have stopped",
    ],
)
def test_live_pushes_are_watched(template: Template, description: str) -> None:
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmDescription": description})


def test_each_notification_channel_has_its_queue_dead_letters_and_notifier(
    resources: dict[str, dict[str, Any]],
) -> None:
    queues = _of_type(resources, "AWS::SQS::Queue")
    rules = [r for r in _of_type(resources, "AWS::Events::Rule").values() if "EventPattern" in r]
    [notified] = [r for r in rules if r["Targets"][0]["Arn"]["Fn::GetAtt"][0].startswith("Notifications")]
    functions = _of_type(resources, "AWS::Lambda::Function")
    mappings = _of_type(resources, "AWS::Lambda::EventSourceMapping").values()

    assert notified["EventPattern"]["source"] == [
        "mt-backend.trades",
        "mt-backend.accounts",
        "mt-backend.notifications",
    ]
    # What can become a notification, and nothing else (a sync's balance changes never queue).
    assert set(notified["EventPattern"]["detail-type"]) == set(NOTIFIED_DETAIL_TYPES)
    assert "AccountUpdated" not in notified["EventPattern"]["detail-type"]
    assert {"TradeExecuted", "PositionClosed", "DailySummary"} <= set(notified["EventPattern"]["detail-type"])
    targets = sorted(target["Arn"]["Fn::GetAtt"][0] for target in notified["Targets"])
    assert [t.split("Notifications", 2)[1][:5] for t in targets] == ["Email", "Teleg"]
    for channel in ("telegram", "email"):
        name = next(
            n
            for n, f in functions.items()
            if f["Handler"] == f"functions.{channel}_notifier.handler.lambda_handler"
        )
        [mapping] = [m for m in mappings if m["FunctionName"] == {"Ref": name}]
        queue = queues[mapping["EventSourceArn"]["Fn::GetAtt"][0]]
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert "deadLetterTargetArn" in queue["RedrivePolicy"]
        # A delivery still marked "sending" is dead once older than the notifier may run, and a
        # redelivery (after the queue's visibility timeout) finds it so.
        stuck = DELIVERY_STUCK.total_seconds()
        assert functions[name]["Timeout"] < stuck < queue["VisibilityTimeout"]


def test_the_bot_token_has_no_value_in_the_template_and_the_webhook_secret_is_generated(
    resources: dict[str, dict[str, Any]],
) -> None:
    secrets = _of_type(resources, "AWS::SecretsManager::Secret")
    token = next(s for s in secrets.values() if s.get("Name", "").endswith("/telegram/bot-token"))
    webhook = next(s for s in secrets.values() if s.get("Name", "").endswith("/telegram/webhook-secret"))

    # A placeholder made at deploy time, which the operator replaces: never a value in the template.
    assert "SecretString" not in token
    assert token.get("GenerateSecretString", {}) == {}
    assert webhook["GenerateSecretString"]["ExcludePunctuation"] is True


def test_daily_summaries_run_hourly(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Events::Rule", {"ScheduleExpression": "rate(1 hour)", "State": "ENABLED"}
    )


def test_email_is_sent_from_the_stages_sender_identity_only() -> None:
    without = synthesize().to_json()["Resources"]
    with_sender = synthesize({"notificationSender": "alerts@example.com"}).to_json()["Resources"]

    assert _of_type(without, "AWS::SES::EmailIdentity") == {}
    [identity] = _of_type(with_sender, "AWS::SES::EmailIdentity").values()
    assert identity["EmailIdentity"] == "alerts@example.com"
    sending = [
        (policy["Roles"][0]["Ref"].split("Role")[0], statement)
        for policy in _of_type(with_sender, "AWS::IAM::Policy").values()
        for statement in policy["PolicyDocument"]["Statement"]
        if "ses:SendEmail" in json.dumps(statement["Action"])
    ]
    assert {role for role, _ in sending} == {"FunctionsEmailNotifierFunction", "FunctionsApiFunction"}
    assert all("identity/" in json.dumps(statement["Resource"]) for _, statement in sending)


@pytest.mark.parametrize(
    "description",
    [
        "Notifications by telegram kept failing and reached the dead-letter queue",
        "Notifications by email kept failing and reached the dead-letter queue",
        "The telegram notifier failed invocations",
        "The Telegram bot's webhook failed invocations",
    ],
)
def test_notifications_are_watched(template: Template, description: str) -> None:
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmDescription": description})

"""Runtime settings: one validated model, read once per container through a cached getter."""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

HttpUrlText = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+", max_length=512)]


class Env(StrEnum):
    """The environment variable behind each setting, one per field of `Settings`: the CDK stack
    and the local stack set these names, and nothing else spells them."""

    STAGE = "STAGE"
    TABLE_NAME = "TABLE_NAME"
    PLATFORM_TOKEN_SECRET_ID = "PLATFORM_TOKEN_SECRET_ID"  # noqa: S105 - a variable's name, not a secret
    USER_TOKEN_SECRET_PREFIX = "USER_TOKEN_SECRET_PREFIX"  # noqa: S105 - a variable's name, not a secret
    OPERATOR_USER_IDS = "OPERATOR_USER_IDS"
    METAAPI_PROVISIONING_URL = "METAAPI_PROVISIONING_URL"
    METAAPI_CLIENT_URL_TEMPLATE = "METAAPI_CLIENT_URL_TEMPLATE"
    METAAPI_REQUEST_BUDGET_S = "METAAPI_REQUEST_BUDGET_S"
    TRADE_QUEUE_URL = "TRADE_QUEUE_URL"
    TRADE_TIMER_QUEUE_URL = "TRADE_TIMER_QUEUE_URL"
    IDEMPOTENCY_TABLE_NAME = "IDEMPOTENCY_TABLE_NAME"
    EVENT_BUS_NAME = "EVENT_BUS_NAME"
    SYNC_QUEUE_URL = "SYNC_QUEUE_URL"
    PROVISIONING_QUEUE_URL = "PROVISIONING_QUEUE_URL"
    PASSWORD_SECRET_PREFIX = "PASSWORD_SECRET_PREFIX"  # noqa: S105 - a variable's name, not a secret
    PROVISIONING_CONNECT_TIMEOUT_S = "PROVISIONING_CONNECT_TIMEOUT_S"
    CONNECTIONS_TABLE_NAME = "CONNECTIONS_TABLE_NAME"
    WEBSOCKET_MANAGEMENT_URL = "WEBSOCKET_MANAGEMENT_URL"
    PRICE_PUMP_QUEUE_URL = "PRICE_PUMP_QUEUE_URL"
    PRICE_PUMP_SECONDS = "PRICE_PUMP_SECONDS"
    JWKS_URL = "JWKS_URL"
    JWT_ISSUER = "JWT_ISSUER"
    JWT_AUDIENCE = "JWT_AUDIENCE"
    TELEGRAM_BOT_TOKEN_SECRET_ID = "TELEGRAM_BOT_TOKEN_SECRET_ID"  # noqa: S105 - a variable's name
    TELEGRAM_WEBHOOK_SECRET_ID = "TELEGRAM_WEBHOOK_SECRET_ID"  # noqa: S105 - a variable's name
    TELEGRAM_API_URL = "TELEGRAM_API_URL"
    TELEGRAM_BOT_USERNAME = "TELEGRAM_BOT_USERNAME"
    TELEGRAM_CHAT_ID = "TELEGRAM_CHAT_ID"
    NOTIFICATION_SENDER = "NOTIFICATION_SENDER"
    CORS_ALLOW_ORIGINS = "CORS_ALLOW_ORIGINS"
    LOG_LEVEL = "LOG_LEVEL"


class Settings(BaseModel):
    """What a function learns from its environment.

    Names match the environment variables the CDK stack sets (case-insensitive), so the
    deployed stack, the local stack and the tests configure functions the same way. Each value
    is the variable's text, validated as the field says (pydantic-settings is not used: its
    import alone costs a cold start about 30 ms, for sources none of these settings need).
    """

    model_config = ConfigDict(frozen=True, extra="ignore", validate_default=True, defer_build=True)

    stage: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9-]*$")] = "local"
    table_name: Annotated[str, Field(min_length=3, max_length=255)]
    platform_token_secret_id: Annotated[str | None, Field(min_length=1, max_length=2048)] = None
    # Users' own MetaApi tokens live at <prefix>/<userId>/metaapi-token.
    user_token_secret_prefix: Annotated[str | None, Field(min_length=1, max_length=256)] = None
    # Users of a single-operator deployment: they may link any account the platform token reads.
    operator_user_ids: frozenset[str] = frozenset()
    metaapi_provisioning_url: HttpUrlText = "https://mt-provisioning-api-v1.agiliumtrade.agiliumtrade.ai"
    metaapi_client_url_template: HttpUrlText = "https://mt-client-api-v1.{region}.agiliumtrade.ai"
    # Time all MetaApi calls of one API request may take, retries included (the function's
    # timeout is 25 s and API Gateway's 29 s).
    metaapi_request_budget_s: Annotated[float, Field(gt=0, le=20)] = 15.0
    # The FIFO queue trades go through, and where API idempotency keys are kept.
    trade_queue_url: Annotated[str | None, Field(min_length=1, max_length=1024)] = None
    # The standard queue that holds a parked trade until it is due (FIFO queues delay no message).
    trade_timer_queue_url: Annotated[str | None, Field(min_length=1, max_length=1024)] = None
    idempotency_table_name: Annotated[str | None, Field(min_length=3, max_length=255)] = None
    event_bus_name: Annotated[str | None, Field(min_length=1, max_length=256)] = None
    # The standard queue account syncs go through.
    sync_queue_url: Annotated[str | None, Field(min_length=1, max_length=1024)] = None
    # The FIFO queue of account operations at MetaApi (create, deploy, undeploy, remove).
    provisioning_queue_url: Annotated[str | None, Field(min_length=1, max_length=1024)] = None
    # Passwords on their way to MetaApi live at <prefix>/<accountId>/password, briefly.
    password_secret_prefix: Annotated[str | None, Field(min_length=1, max_length=256)] = None
    # How long a deployment may take to connect to the broker before it counts as failed.
    provisioning_connect_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 600.0
    # The dashboard's live pushes: open WebSocket connections, and the stage's management API
    # (https://{api}.execute-api.{region}.amazonaws.com/{stage}) frames are posted through.
    connections_table_name: Annotated[str | None, Field(min_length=3, max_length=255)] = None
    websocket_management_url: HttpUrlText | None = None
    # The price pump: its queue, and how long one invocation pumps before it hands on.
    price_pump_queue_url: Annotated[str | None, Field(min_length=1, max_length=1024)] = None
    price_pump_seconds: Annotated[float, Field(gt=0, le=600)] = 50.0
    # Whose ID tokens open a WebSocket: the user pool's keys, issuer and app client.
    jwks_url: HttpUrlText | None = None
    jwt_issuer: Annotated[str | None, Field(min_length=1, max_length=512)] = None
    jwt_audience: Annotated[str | None, Field(min_length=1, max_length=256)] = None
    # Notifications: the Telegram bot (its token and webhook secret in Secrets Manager, its API,
    # its @username for links), the operator's chat in single-operator deployments, the SES sender.
    telegram_bot_token_secret_id: Annotated[str | None, Field(min_length=1, max_length=2048)] = None
    telegram_webhook_secret_id: Annotated[str | None, Field(min_length=1, max_length=2048)] = None
    telegram_api_url: HttpUrlText = "https://api.telegram.org"
    telegram_bot_username: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9_]{5,32}$")] = None
    telegram_chat_id: int | None = None
    notification_sender: Annotated[str | None, Field(min_length=3, max_length=320)] = None
    cors_allow_origins: list[str] = Field(default_factory=lambda: ["*"])
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    def __init__(self, **values: Any) -> None:
        names = set(type(self).model_fields)
        environment = {name.lower(): text for name, text in os.environ.items() if name.lower() in names}
        super().__init__(**{**environment, **values})

    @property
    def token_secret_prefix(self) -> str:
        return self.user_token_secret_prefix or f"mt-backend/{self.stage}/users"

    @property
    def pending_password_prefix(self) -> str:
        return self.password_secret_prefix or f"mt-backend/{self.stage}/provisioning"

    @field_validator("operator_user_ids", mode="before")
    @classmethod
    def _split_operators(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(user.strip() for user in value.split(",") if user.strip())
        return value

    @field_validator("cors_allow_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        # The stack passes the origins as one comma-separated variable.
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_allow_origins")
    @classmethod
    def _require_origin(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one origin is required (use * to allow any)")
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings, validated on first use and then reused."""
    return Settings()  # values come from the environment

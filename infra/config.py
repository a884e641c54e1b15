"""Per-stage settings of the stack, read from CDK context (`cdk.json` or `-c key=value`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aws_cdk import aws_logs as logs

if TYPE_CHECKING:
    from constructs import Node

_RETENTION_BY_DAYS = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


@dataclass(frozen=True)
class StageConfig:
    stage: str = "dev"
    cors_allow_origins: list[str] = field(default_factory=lambda: ["http://localhost:5173"])
    log_retention_days: int = 30
    api_rate_limit: int = 50
    api_burst_limit: int = 100
    # The public webhook intake's own method throttling (each webhook also limits itself).
    webhook_rate_limit: int = 20
    webhook_burst_limit: int = 40
    # Single-operator deployments: these users may link any account the platform token reads.
    operator_user_ids: list[str] = field(default_factory=list)
    # How often the sync scheduler runs, and how many sync workers may run at once.
    sync_rate_minutes: int = 1
    sync_max_concurrency: int = 5
    # How long a deployment may take to connect to the broker before it counts as failed.
    provisioning_connect_timeout_seconds: int = 600
    # Notifications: the SES sender (email is off without one), the Telegram bot's @username
    # (for links), and the operator's chat in a single-operator deployment.
    notification_sender: str = ""
    telegram_bot_username: str = ""
    telegram_operator_chat_id: int | None = None

    def __post_init__(self) -> None:
        if self.log_retention_days not in _RETENTION_BY_DAYS:
            raise ValueError(f"logRetentionDays must be one of {sorted(_RETENTION_BY_DAYS)}")
        if not 1 <= self.sync_rate_minutes <= 60:
            raise ValueError("syncRateMinutes must be between 1 and 60")
        if not 2 <= self.sync_max_concurrency <= 1000:
            raise ValueError(
                "syncMaxConcurrency must be between 2 and 1000 (SQS event sources need 2 or more)"
            )
        if not 60 <= self.provisioning_connect_timeout_seconds <= 3600:
            raise ValueError("provisioningConnectTimeoutSeconds must be between 60 and 3600")
        if not self.cors_allow_origins:
            raise ValueError("corsAllowOrigins needs at least one origin (use * for any)")

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _RETENTION_BY_DAYS[self.log_retention_days]

    @classmethod
    def from_context(cls, node: Node) -> StageConfig:
        defaults = cls()

        def value(key: str, default: object) -> object:
            found = node.try_get_context(key)
            return default if found is None else found

        return cls(
            stage=str(value("stage", defaults.stage)),
            cors_allow_origins=_names(value("corsAllowOrigins", defaults.cors_allow_origins)),
            operator_user_ids=_names(value("operatorUserIds", defaults.operator_user_ids)),
            log_retention_days=int(value("logRetentionDays", defaults.log_retention_days)),  # type: ignore[call-overload]
            api_rate_limit=int(value("apiRateLimit", defaults.api_rate_limit)),  # type: ignore[call-overload]
            api_burst_limit=int(value("apiBurstLimit", defaults.api_burst_limit)),  # type: ignore[call-overload]
            webhook_rate_limit=int(value("webhookRateLimit", defaults.webhook_rate_limit)),  # type: ignore[call-overload]
            webhook_burst_limit=int(value("webhookBurstLimit", defaults.webhook_burst_limit)),  # type: ignore[call-overload]
            sync_rate_minutes=int(value("syncRateMinutes", defaults.sync_rate_minutes)),  # type: ignore[call-overload]
            sync_max_concurrency=int(value("syncMaxConcurrency", defaults.sync_max_concurrency)),  # type: ignore[call-overload]
            provisioning_connect_timeout_seconds=int(
                value("provisioningConnectTimeoutSeconds", defaults.provisioning_connect_timeout_seconds)  # type: ignore[call-overload]
            ),
            notification_sender=str(value("notificationSender", defaults.notification_sender)),
            telegram_bot_username=str(value("telegramBotUsername", defaults.telegram_bot_username)),
            telegram_operator_chat_id=_chat_id(value("telegramOperatorChatId", None)),
        )


def _chat_id(value: object) -> int | None:
    if value in (None, ""):
        return None
    return int(str(value))


def _names(value: object) -> list[str]:
    """A context list given as a JSON list or as one comma-separated string."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError(f"expected a list or a comma-separated string, got {value!r}")
    return [str(item).strip() for item in items if str(item).strip()]

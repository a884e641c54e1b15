"""Runtime settings: one validated model, read once per container through a cached getter."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """What a function learns from its environment.

    Names match the environment variables the CDK stack sets (case-insensitive), so the
    deployed stack, the local stack and the tests configure functions the same way.
    """

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    stage: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9-]*$")] = "local"
    table_name: Annotated[str, Field(min_length=3, max_length=255)]
    platform_token_secret_id: Annotated[str | None, Field(min_length=1, max_length=2048)] = None
    cors_allow_origins: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["*"])
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

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

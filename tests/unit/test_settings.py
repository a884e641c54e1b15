from __future__ import annotations

import pytest
from pydantic import ValidationError

from mtcore.settings import Settings, get_settings


def test_reads_the_environment_the_stack_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "mt-backend-table")
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("PLATFORM_TOKEN_SECRET_ID", "arn:aws:secretsmanager:eu-west-1:1:secret:x")
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://app.example.com, https://admin.example.com")

    settings = Settings()

    assert settings.table_name == "mt-backend-table"
    assert settings.stage == "prod"
    assert settings.platform_token_secret_id == "arn:aws:secretsmanager:eu-west-1:1:secret:x"
    assert settings.cors_allow_origins == ["https://app.example.com", "https://admin.example.com"]


def test_defaults_allow_any_origin_and_local_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "t-1")
    monkeypatch.delenv("CORS_ALLOW_ORIGINS", raising=False)
    monkeypatch.delenv("STAGE", raising=False)

    settings = Settings()

    assert settings.cors_allow_origins == ["*"]
    assert settings.stage == "local"
    assert settings.platform_token_secret_id is None


def test_missing_table_name_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)

    with pytest.raises(ValidationError) as raised:
        Settings()

    assert [error["loc"] for error in raised.value.errors()] == [("table_name",)]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("STAGE", "Prod Stage"), ("LOG_LEVEL", "CHATTY"), ("CORS_ALLOW_ORIGINS", " , "), ("TABLE_NAME", "ab")],
)
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv("TABLE_NAME", "table")
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValidationError) as raised:
        Settings()

    assert raised.value.errors()[0]["loc"] == (variable.lower(),)


def test_settings_are_validated_once_per_container(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "first")
    first = get_settings()
    monkeypatch.setenv("TABLE_NAME", "second")

    assert get_settings() is first
    assert get_settings().table_name == "first"


def test_settings_are_immutable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "table")
    settings = Settings()

    with pytest.raises(ValidationError):
        settings.table_name = "other"  # type: ignore[misc]


def test_every_setting_has_exactly_one_environment_variable_name() -> None:
    from mtcore.settings import Env, Settings

    assert {name.value.lower() for name in Env} == set(Settings.model_fields)

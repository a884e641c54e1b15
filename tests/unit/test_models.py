from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from mtcore.accounts.models import Account

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def _account(**changes: object) -> Account:
    fields: dict[str, object] = {
        "id": "acc-1",
        "user_id": "alice",
        "metaapi_account_id": "meta-1",
        "name": "Main",
        "balance": Decimal("10000.29"),
        "free_margin": Decimal("9950.10"),
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Account(**(fields | changes))


def test_money_is_decimal_in_python_and_a_number_on_the_wire() -> None:
    account = _account()

    assert account.model_dump()["balance"] == Decimal("10000.29")
    wire = account.model_dump(mode="json")
    assert wire["balance"] == 10000.29
    assert isinstance(wire["balance"], float)
    assert wire["freeMargin"] == 9950.1


def test_wire_names_are_camel_case_and_the_owner_is_not_exposed() -> None:
    wire = _account().model_dump(mode="json")

    assert "metaapiAccountId" in wire
    assert "autoSyncPositions" in wire
    assert "userId" not in wire
    assert "user_id" not in wire


def test_accounts_hold_no_password_field() -> None:
    assert not any("password" in name.lower() for name in Account.model_fields)

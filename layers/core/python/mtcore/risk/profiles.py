"""Reading and setting an account's risk profile. Every call starts by proving the account
belongs to the caller."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mtcore.accounts import AccountsRepository
    from mtcore.risk.models import RiskProfile
    from mtcore.risk.repository import RiskRepository


def get_profile(
    user_id: str, account_id: str, *, accounts: AccountsRepository, risk: RiskRepository
) -> RiskProfile:
    """The stored profile; with none stored, one that limits nothing."""
    account = accounts.get(user_id, account_id)
    profile, _ = risk.read(account.id)
    return profile


def put_profile(
    user_id: str, account_id: str, profile: RiskProfile, *, accounts: AccountsRepository, risk: RiskRepository
) -> RiskProfile:
    """Replace the profile (a limit left out is no limit), stamped with when it was set."""
    account = accounts.get(user_id, account_id)
    stored = profile.model_copy(update={"updated_at": datetime.now(UTC)})
    risk.put_profile(account.id, stored)
    return stored

"""What a user may do with their linked accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mtcore.models import AccountPage
    from mtcore.repositories.accounts import AccountsRepository


def list_accounts(
    user_id: str, *, limit: int, next_token: str | None, repository: AccountsRepository
) -> AccountPage:
    """The caller's own accounts; a new user gets an empty page, never someone else's."""
    return repository.list_for_user(user_id, limit=limit, next_token=next_token)

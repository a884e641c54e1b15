"""Symbols, specifications and quotes of an account, read live from MetaApi. Every read starts
by proving the account belongs to the caller."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mtcore.accounts import AccountsRepository, MetaApiAccess
    from mtcore.metaapi.models import SymbolPrice, SymbolSpecification


def list_symbols(
    user_id: str, account_id: str, *, accounts: AccountsRepository, access: MetaApiAccess
) -> list[str]:
    account = accounts.get(user_id, account_id)
    return access.for_account(account).symbols(account.remote)


def get_specification(
    user_id: str, account_id: str, symbol: str, *, accounts: AccountsRepository, access: MetaApiAccess
) -> SymbolSpecification:
    account = accounts.get(user_id, account_id)
    return access.for_account(account).specification(account.remote, symbol)


def get_quote(
    user_id: str, account_id: str, symbol: str, *, accounts: AccountsRepository, access: MetaApiAccess
) -> SymbolPrice:
    account = accounts.get(user_id, account_id)
    return access.for_account(account).current_price(account.remote, symbol)

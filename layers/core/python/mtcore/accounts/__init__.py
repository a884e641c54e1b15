"""Accounts: linking MetaApi accounts under the ownership rule, the users' own MetaApi tokens,
which token serves an account, and when each account is next due for sync."""

from mtcore.accounts.access import MetaApiAccess, UserTokenMissing, get_metaapi_access
from mtcore.accounts.models import Account, AccountPage, Platform, Reconciliation, TokenSource
from mtcore.accounts.repository import AccountsRepository, get_accounts_repository
from mtcore.accounts.schedule import DueAccount, SyncScheduleRepository, get_sync_schedule_repository
from mtcore.accounts.tokens import PlatformTokenMissing

__all__ = [
    "Account",
    "AccountPage",
    "AccountsRepository",
    "DueAccount",
    "MetaApiAccess",
    "Platform",
    "PlatformTokenMissing",
    "Reconciliation",
    "SyncScheduleRepository",
    "TokenSource",
    "UserTokenMissing",
    "get_accounts_repository",
    "get_metaapi_access",
    "get_sync_schedule_repository",
]

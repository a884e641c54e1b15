"""Accounts: linking MetaApi accounts under the ownership rule, the accounts the platform creates
(their provisioning state), the users' own MetaApi tokens, which token serves an account, and
when each account is next due for sync."""

from mtcore.accounts.access import MetaApiAccess, UserTokenMissing, get_metaapi_access
from mtcore.accounts.linking import (
    METAAPI_ID,
    LinkRequest,
    refuse_with_trades_in_flight,
    snapshot_of,
)
from mtcore.accounts.models import (
    PROVISIONING_IN_PROGRESS,
    Account,
    AccountNotReady,
    AccountPage,
    AccountUndeployed,
    Operation,
    Platform,
    Provisioning,
    ProvisioningInProgress,
    ProvisioningStatus,
    ProvisioningStep,
    Reconciliation,
    TokenSource,
)
from mtcore.accounts.repository import AccountsRepository, OperationSuperseded, get_accounts_repository
from mtcore.accounts.schedule import DueAccount, SyncScheduleRepository, get_sync_schedule_repository
from mtcore.accounts.tokens import PlatformTokenMissing

__all__ = [
    "METAAPI_ID",
    "PROVISIONING_IN_PROGRESS",
    "Account",
    "AccountNotReady",
    "AccountPage",
    "AccountUndeployed",
    "AccountsRepository",
    "DueAccount",
    "LinkRequest",
    "MetaApiAccess",
    "Operation",
    "OperationSuperseded",
    "Platform",
    "PlatformTokenMissing",
    "Provisioning",
    "ProvisioningInProgress",
    "ProvisioningStatus",
    "ProvisioningStep",
    "Reconciliation",
    "SyncScheduleRepository",
    "TokenSource",
    "UserTokenMissing",
    "get_accounts_repository",
    "get_metaapi_access",
    "get_sync_schedule_repository",
    "refuse_with_trades_in_flight",
    "snapshot_of",
]

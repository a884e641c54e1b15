"""What a user may do with their linked accounts.

Ownership rule for linking: a user may link a MetaApi account only if (a) their own stored token
can read it, (b) its MetaApi metadata names them as owner (`metadata.userId`, set when the platform
created it for them), or (c) they are an operator of a single-operator deployment. Anything else
is a 404 that looks exactly like a missing account: knowing an account id is not ownership.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, model_validator

from mtcore.accounts.models import (
    PROVISIONING_IN_PROGRESS,
    Account,
    Platform,
    ProvisioningInProgress,
    TokenSource,
)
from mtcore.errors import Conflict, NotFound
from mtcore.ids import new_ulid
from mtcore.metaapi.errors import MetaApiError, MetaApiNotFound, MetaApiTokenRefused
from mtcore.models import CamelModel, JsonDecimal
from mtcore.observability import logger

if TYPE_CHECKING:
    from mtcore.accounts.access import MetaApiAccess
    from mtcore.accounts.models import AccountPage
    from mtcore.accounts.repository import AccountsRepository
    from mtcore.accounts.schedule import SyncScheduleRepository
    from mtcore.metaapi.client import MetaApiClient
    from mtcore.metaapi.models import AccountInformation, RemoteAccount

METAAPI_ID = r"^[A-Za-z0-9_-]{1,64}$"
OWNER_METADATA_KEY = "userId"


class LinkRequest(CamelModel):
    metaapi_account_id: Annotated[str, Field(pattern=METAAPI_ID, description="The MetaApi account id")]
    name: Annotated[str | None, Field(min_length=1, max_length=128)] = None
    auto_sync_positions: bool = True
    auto_sync_orders: bool = True
    sync_interval: Annotated[int, Field(ge=10, le=86_400, description="Seconds between scheduled syncs")] = 60


class AccountChanges(CamelModel):
    name: Annotated[str | None, Field(min_length=1, max_length=128)] = None
    auto_sync_positions: bool | None = None
    auto_sync_orders: bool | None = None
    sync_interval: Annotated[int | None, Field(ge=10, le=86_400)] = None
    order_expiry_seconds: Annotated[int | None, Field(ge=1, le=3600)] = None
    max_slippage_points: Annotated[int | None, Field(ge=0, le=10_000)] = None
    max_spread_points: Annotated[int | None, Field(ge=0, le=1_000_000)] = None
    stop_loss_buffer_pips: Annotated[JsonDecimal | None, Field(ge=0, le=1000, decimal_places=2)] = None
    take_profit_buffer_pips: Annotated[JsonDecimal | None, Field(ge=0, le=1000, decimal_places=2)] = None

    @model_validator(mode="after")
    def _something_to_change(self) -> AccountChanges:
        # null means "not given": none of these settings can be unset.
        if not self.model_dump(exclude_none=True):
            raise ValueError(
                "send at least one of name, autoSyncPositions, autoSyncOrders, syncInterval, "
                "orderExpirySeconds, maxSlippagePoints, maxSpreadPoints, stopLossBufferPips, "
                "takeProfitBufferPips"
            )
        return self


def _not_linkable(metaapi_account_id: str) -> NotFound:
    return NotFound(f"No MetaApi account {metaapi_account_id} that you can link")


def list_accounts(
    user_id: str, *, limit: int, next_token: str | None, repository: AccountsRepository
) -> AccountPage:
    """The caller's own accounts; a new user gets an empty page, never someone else's."""
    return repository.list_for_user(user_id, limit=limit, next_token=next_token)


def link_account(
    user_id: str,
    request: LinkRequest,
    *,
    repository: AccountsRepository,
    access: MetaApiAccess,
    schedule: SyncScheduleRepository,
    now: datetime | None = None,
) -> Account:
    remote, client, source = _find_linkable(user_id, request.metaapi_account_id, access)
    stamp = now or datetime.now(UTC)
    account = Account(
        id=new_ulid(),
        user_id=user_id,
        metaapi_account_id=remote.id,
        name=request.name or remote.name or remote.id,
        platform=Platform(remote.platform_name) if remote.platform_name in ("mt4", "mt5") else None,
        server=remote.server,
        login=remote.login,
        region=remote.region,
        token_source=source,
        state=remote.state,
        connection_status=remote.connection_status,
        auto_sync_positions=request.auto_sync_positions,
        auto_sync_orders=request.auto_sync_orders,
        sync_interval=request.sync_interval,
        created_at=stamp,
        updated_at=stamp,
    )
    account = _with_snapshot(account, client, remote)
    repository.link(account)
    schedule.schedule(account, due_at=stamp + timedelta(seconds=account.sync_interval))
    logger.info("account linked", extra={"accountId": account.id, "tokenSource": source.value})
    return account


def _find_linkable(
    user_id: str, metaapi_account_id: str, access: MetaApiAccess
) -> tuple[RemoteAccount, MetaApiClient, TokenSource]:
    own_token = access.tokens.user_token(user_id)
    if own_token:
        own = access.with_token(own_token)
        try:
            return own.get_account(metaapi_account_id), own, TokenSource.USER
        except (MetaApiNotFound, MetaApiTokenRefused):
            pass  # not theirs through their token; the platform rules below may still allow it
    platform = access.platform()
    try:
        remote = platform.get_account(metaapi_account_id)
    except MetaApiNotFound:
        raise _not_linkable(metaapi_account_id) from None
    owner = (remote.metadata or {}).get(OWNER_METADATA_KEY)
    if owner == user_id or user_id in access.settings.operator_user_ids:
        return remote, platform, TokenSource.PLATFORM
    raise _not_linkable(metaapi_account_id)


def _with_snapshot(account: Account, client: MetaApiClient, remote: RemoteAccount) -> Account:
    """The account-information snapshot, when the terminal is connected; linking never fails on it."""
    if not remote.connected:
        return account
    try:
        info = client.account_information(remote)
    except MetaApiError as error:
        logger.warning("no account snapshot at link time", extra={"errorCode": error.code})
        return account
    return account.model_copy(update={**snapshot_of(account, info), "last_sync_at": account.created_at})


def snapshot_of(account: Account, info: AccountInformation) -> dict[str, Any]:
    """The account's fields an account-information snapshot gives (by Account field name)."""
    return {
        "platform": Platform(info.platform) if info.platform in ("mt4", "mt5") else account.platform,
        "broker": info.broker or account.broker,
        "currency": info.currency,
        "leverage": info.leverage,
        "balance": info.balance,
        "equity": info.equity,
        "margin": info.margin,
        "free_margin": info.free_margin,
        "margin_level": info.margin_level,
        "margin_mode": info.margin_mode,
    }


def get_account(user_id: str, account_id: str, *, repository: AccountsRepository) -> Account:
    return repository.get(user_id, account_id)


def update_account(
    user_id: str,
    account_id: str,
    changes: AccountChanges,
    *,
    repository: AccountsRepository,
    schedule: SyncScheduleRepository,
    now: datetime | None = None,
) -> Account:
    account = repository.get(user_id, account_id)
    # Each change was validated by AccountChanges; nulls ("not given") are left out.
    changed = changes.model_dump(exclude_none=True, by_alias=False)
    stamp = now or datetime.now(UTC)
    updated = repository.update(account, {**changed, "updated_at": stamp})
    sync_settings = ("auto_sync_positions", "auto_sync_orders", "sync_interval")
    if any(getattr(updated, name) != getattr(account, name) for name in sync_settings):
        schedule.schedule(updated, due_at=stamp + timedelta(seconds=updated.sync_interval))
    return updated


class TradesInFlight(Conflict):
    code = "TRADES_IN_FLIGHT"


def refuse_with_trades_in_flight(account: Account, repository: AccountsRepository, what: str) -> None:
    """While a trade of the account is on its way, what the broker does with it must still be
    recorded, and its terminal must stay connected to do it."""
    in_flight = repository.count_in_flight(account.id)
    if in_flight:
        raise TradesInFlight(
            f"{in_flight} trade request(s) of this account are still being executed: {what} it once "
            "they have settled (GET .../trades?status=QUEUED, WAITING or SENDING)"
        )


def unlink_account(user_id: str, account_id: str, *, repository: AccountsRepository) -> None:
    """Forget the account here; the MetaApi account and its broker account are left untouched.
    Refused while a trade of the account is still on its way, and in the middle of an operation
    at MetaApi (unlinked then, a creation would go on making an account nobody sees)."""
    account = repository.get(user_id, account_id)
    if account.provisioning_status in PROVISIONING_IN_PROGRESS:
        raise ProvisioningInProgress(
            f"This account is {account.provisioning_status.value}: unlink it once that is done, or "
            "stop it and remove the account from MetaApi with DELETE ...?fromMetaApi=true"
        )
    refuse_with_trades_in_flight(account, repository, "unlink")
    repository.unlink(account)

"""A MetaTrader account as we store and answer it: linked from MetaApi, or created there for its
owner (its provisioning: what was asked, each step with its time, and why it failed)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from mtcore.errors import Conflict
from mtcore.models import CamelModel, JsonDecimal, Money


class TokenSource(StrEnum):
    """Whose MetaApi token serves an account: the one that could read it when it was linked."""

    USER = "user"
    PLATFORM = "platform"


class Platform(StrEnum):
    MT4 = "mt4"
    MT5 = "mt5"


class ProvisioningStatus(StrEnum):
    """Where an account is in its life at MetaApi, as far as this platform moved it."""

    CREATING = "CREATING"  # the MetaApi account is being created
    AWAITING_CREDENTIALS = "AWAITING_CREDENTIALS"  # a draft: the trader types login and password
    DEPLOYING = "DEPLOYING"  # deployed, then connected, then a first snapshot taken
    UNDEPLOYING = "UNDEPLOYING"
    UNDEPLOYED = "UNDEPLOYED"
    READY = "READY"  # deployed and connected: syncs and trades
    FAILED = "FAILED"  # the last operation failed; `provisioning.reason` says why
    REMOVING = "REMOVING"  # being removed from MetaApi, then unlinked


# Where an operation is still moving: another one waits, or replaces it (see provisioning).
PROVISIONING_IN_PROGRESS = frozenset(
    {
        ProvisioningStatus.CREATING,
        ProvisioningStatus.DEPLOYING,
        ProvisioningStatus.UNDEPLOYING,
        ProvisioningStatus.REMOVING,
    }
)


class Operation(StrEnum):
    CREATE = "create"
    DRAFT = "draft"
    DEPLOY = "deploy"
    UNDEPLOY = "undeploy"
    REDEPLOY = "redeploy"
    REMOVE = "remove"


class ProvisioningStep(CamelModel):
    step: str = Field(description="e.g. accepted, creating, created, deploying, connected, ready, failed")
    at: datetime
    detail: str | None = None


class Provisioning(CamelModel):
    """The account's last operation at MetaApi, step by step."""

    operation: Operation
    operation_id: str = Field(description="Messages of an older operation are dropped")
    transaction_id: str | None = Field(
        default=None, description="MetaApi's transaction-id for the creation: every retry repeats it"
    )
    steps: list[ProvisioningStep] = Field(default_factory=list)
    code: str | None = Field(default=None, description="Why it failed, as a stable code")
    reason: str | None = Field(default=None, description="Why it failed, in plain words")
    watch_until: datetime | None = Field(
        default=None, description="A draft is watched for its credentials until then"
    )

    @property
    def started_at(self) -> datetime:
        return self.steps[0].at

    def did(self, step: str) -> bool:
        return any(done.step == step for done in self.steps)


class AccountNotReady(Conflict):
    code = "ACCOUNT_NOT_READY"


class AccountUndeployed(Conflict):
    code = "ACCOUNT_UNDEPLOYED"


class ProvisioningInProgress(Conflict):
    code = "PROVISIONING_IN_PROGRESS"


class Reconciliation(CamelModel):
    """What full syncs found when they compared our trades with the broker's records."""

    checked_at: datetime = Field(
        description="When a full sync first found this; later ones finding the same keep it (see lastSyncAt)"
    )
    unknown_resolved: list[str] = Field(
        default_factory=list, description="UNKNOWN trades settled from broker truth"
    )
    unknown_remaining: list[str] = Field(
        default_factory=list, description="UNKNOWN trades the broker still cannot tell"
    )
    executed_without_position: list[str] = Field(
        default_factory=list, description="Executed trades whose position never appeared"
    )
    unmatched_positions: list[str] = Field(
        default_factory=list, description="Positions carrying one of our clientIds, with no trade request"
    )
    positions_of_unexecuted_trades: list[str] = Field(
        default_factory=list,
        description="Open positions carrying the clientId of a trade not recorded as executed (a late fill)",
    )
    manual_positions: list[str] = Field(
        default_factory=list, description="Positions opened by hand (no clientId)"
    )


class Account(CamelModel):
    """A MetaTrader account of one user. MetaTrader passwords are never part of it."""

    id: Annotated[str, Field(min_length=1, max_length=64, description="Our id for the account")]
    user_id: Annotated[str, Field(min_length=1, max_length=128, exclude=True)]
    metaapi_account_id: Annotated[
        str | None,
        Field(min_length=1, max_length=64, description="None until MetaApi has created the account"),
    ] = None
    name: Annotated[str, Field(min_length=1, max_length=128)]
    platform: Platform | None = None
    broker: str | None = None
    server: str | None = None
    login: str | None = None
    region: str | None = None
    magic: int | None = Field(default=None, description="MetaApi's magic number for the account's trades")
    reliability: Literal["regular", "high"] | None = None
    created_by_platform: bool = Field(
        default=False, description="Created at MetaApi by this platform for its owner (not linked)"
    )
    provisioning_status: ProvisioningStatus = ProvisioningStatus.READY
    provisioning: Provisioning | None = None
    token_source: TokenSource = Field(
        default=TokenSource.PLATFORM, description="Whose MetaApi token is used for this account"
    )
    state: str | None = Field(default=None, description="MetaApi deployment state, e.g. DEPLOYED")
    connection_status: str | None = Field(default=None, description="e.g. CONNECTED, DISCONNECTED")
    currency: str | None = None
    leverage: JsonDecimal | None = None
    balance: Money | None = None
    equity: Money | None = None
    margin: Money | None = None
    free_margin: Money | None = None
    margin_level: JsonDecimal | None = None
    margin_mode: str | None = Field(
        default=None, description="e.g. ACCOUNT_MARGIN_MODE_RETAIL_HEDGING; close-by needs hedging"
    )
    trading_halted: bool = Field(default=False, description="New positions are refused while set")
    halt_reason: str | None = Field(default=None, description="Why trading is halted")
    halted_at: datetime | None = None
    flatten_trade_id: str | None = Field(
        default=None, description="The trade request of the last halt that closed everything"
    )
    order_expiry_seconds: Annotated[int, Field(ge=1, le=3600)] = Field(
        default=60, description="Market orders not sent within this long are expired, never sent late"
    )
    max_slippage_points: Annotated[int | None, Field(ge=0, le=10_000)] = Field(
        default=None, description="Sent with every market order; MetaApi's account default without it"
    )
    max_spread_points: Annotated[int | None, Field(ge=0, le=1_000_000)] = Field(
        default=None, description="Market orders are refused while the spread is wider"
    )
    stop_loss_buffer_pips: Annotated[JsonDecimal, Field(ge=0, le=1000)] = Field(
        default=Decimal(0), description="Added to every stop loss, away from the entry"
    )
    take_profit_buffer_pips: Annotated[JsonDecimal, Field(ge=0, le=1000)] = Field(
        default=Decimal(0), description="Added to every take profit, away from the entry"
    )
    auto_sync_positions: bool = True
    auto_sync_orders: bool = True
    sync_interval: Annotated[int, Field(ge=10, le=86_400, description="Seconds between scheduled syncs")] = 60
    last_sync_at: datetime | None = None
    reconciliation: Reconciliation | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def remote(self) -> tuple[str, str | None]:
        """MetaApi's id and region of the account, for client API calls."""
        if self.metaapi_account_id is None:
            raise AccountNotReady(
                f"This account is {self.provisioning_status.value}: MetaApi has not created it yet"
            )
        return self.metaapi_account_id, self.region

    def ensure_ready(self) -> None:
        """Trades and syncs go to READY accounts only."""
        status = self.provisioning_status
        if status is ProvisioningStatus.READY:
            return
        if status in (ProvisioningStatus.UNDEPLOYED, ProvisioningStatus.UNDEPLOYING):
            raise AccountUndeployed(
                "This account is undeployed at MetaApi: deploy it "
                f"(POST /api/metatrader/accounts/{self.id}/deploy) before trading or syncing it"
            )
        raise AccountNotReady(f"This account is {status.value}: it takes trades and syncs once it is READY")


class AccountPage(CamelModel):
    """One page of the caller's accounts, in link order."""

    items: list[Account]
    next_token: str | None = Field(default=None, description="Pass as nextToken to read the next page")

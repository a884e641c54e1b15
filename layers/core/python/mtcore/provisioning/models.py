"""What adding and running an account at MetaApi takes and answers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_core import InitErrorDetails

from mtcore.accounts import METAAPI_ID, Account, LinkRequest, Platform
from mtcore.models import CamelModel, JsonDecimal

# Fields that describe an account MetaApi is to create; a link names an existing one instead.
_NEW_ACCOUNT_FIELDS = ("platform", "server", "login", "password", "broker", "magic", "region", "reliability")


class AccountKind(StrEnum):
    LINK = "link"
    CREATE = "create"
    DRAFT = "draft"


class AddAccount(CamelModel):
    """`POST /accounts`: link an account that exists at MetaApi (`metaapiAccountId`), or have the
    platform create one: with the broker's login and password, or as a draft (`draft: true`)
    whose login and password the trader types on MetaApi's own page (its configuration link)."""

    model_config = ConfigDict(extra="forbid")

    metaapi_account_id: Annotated[
        str | None, Field(pattern=METAAPI_ID, description="Link this existing MetaApi account")
    ] = None
    draft: bool = Field(
        default=False, description="Create the account without credentials: the trader types them later"
    )
    name: Annotated[str | None, Field(min_length=1, max_length=128)] = None
    platform: Platform | None = None
    server: Annotated[
        str | None, Field(min_length=1, max_length=128, description="The broker's MetaTrader server")
    ] = None
    login: Annotated[str | None, Field(pattern=r"^[0-9]{1,20}$", description="The MetaTrader login")] = None
    password: Annotated[
        SecretStr | None,
        Field(
            min_length=1,
            max_length=128,
            description="Passed to MetaApi and nowhere else: never stored, logged or answered. The "
            "master password trades; the investor password only reads.",
        ),
    ] = None
    broker: Annotated[
        str | None, Field(min_length=1, max_length=128, description="The broker's name (helps MetaApi)")
    ] = None
    magic: Annotated[int | None, Field(ge=0, le=2_147_483_647, description="Default magic number")] = None
    region: Annotated[
        str | None,
        Field(pattern=r"^[a-z0-9-]{2,32}$", description="MetaApi region, e.g. london; MetaApi's default"),
    ] = None
    reliability: Literal["regular", "high"] | None = Field(
        default=None, description="MetaApi's reliability (high runs two terminals); regular by default"
    )
    auto_sync_positions: bool = True
    auto_sync_orders: bool = True
    sync_interval: Annotated[int, Field(ge=10, le=86_400, description="Seconds between scheduled syncs")] = 60

    @property
    def kind(self) -> AccountKind:
        if self.metaapi_account_id is not None:
            return AccountKind.LINK
        return AccountKind.DRAFT if self.draft else AccountKind.CREATE

    @model_validator(mode="after")
    def _fields_of_its_kind(self) -> AddAccount:
        problems: list[InitErrorDetails] = []

        def refuse(field: str, message: str) -> None:
            problems.append(
                InitErrorDetails(
                    type="value_error", loc=(field,), input=None, ctx={"error": ValueError(message)}
                )
            )

        if self.kind is AccountKind.LINK:
            for name in ("draft", *_NEW_ACCOUNT_FIELDS):
                if getattr(self, name):
                    refuse(
                        _camel(name), "only for an account the platform creates, not with metaapiAccountId"
                    )
        else:
            needed = (
                ("name", "platform") if self.draft else ("name", "platform", "server", "login", "password")
            )
            for name in needed:
                if getattr(self, name) is None:
                    problems.append(InitErrorDetails(type="missing", loc=(_camel(name),), input=None))
            if self.draft:
                for name in ("login", "password"):
                    if getattr(self, name) is not None:
                        refuse(name, "not with a draft: the trader types it on MetaApi's page")
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    def as_link(self) -> LinkRequest:
        if self.metaapi_account_id is None:
            raise ValueError("not a link")
        return LinkRequest(
            metaapi_account_id=self.metaapi_account_id,
            name=self.name,
            auto_sync_positions=self.auto_sync_positions,
            auto_sync_orders=self.auto_sync_orders,
            sync_interval=self.sync_interval,
        )

    def described(self) -> dict[str, object]:
        """What a repeat under the same Idempotency-Key must match: everything but the password,
        which is never kept, not even as a digest."""
        return self.model_dump(mode="json", by_alias=True, exclude={"password"})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class ProvisioningMessage(CamelModel):
    """One operation on one account, on the provisioning queue (never a password)."""

    account_id: str
    user_id: str
    operation_id: str


class Verdict(StrEnum):
    CONNECTED = "connected"
    DEPLOYING = "deploying"
    DISCONNECTED = "disconnected from the broker"
    CREDENTIALS_REFUSED = "credentials refused"
    UNDEPLOYED = "undeployed"
    AWAITING_CREDENTIALS = "awaiting credentials"
    NOT_CREATED = "not created"


class ConnectionTest(CamelModel):
    """`GET /accounts/{id}/test`: the account at MetaApi and its terminal, as of now."""

    verdict: Verdict
    message: str = Field(description="The verdict in a sentence, with what to do about it")
    state: str | None = Field(default=None, description="MetaApi's deployment state, e.g. DEPLOYED")
    connection_status: str | None = Field(
        default=None, description="e.g. CONNECTED, DISCONNECTED_FROM_BROKER"
    )
    server_time: datetime | None = Field(default=None, description="The broker's server clock, in UTC")
    broker_time: str | None = Field(default=None, description="The broker's server clock, in its own zone")
    round_trip_ms: JsonDecimal | None = Field(
        default=None, description="How long the server time took to come back through MetaApi"
    )
    checked_at: datetime


class ConfigurationLink(CamelModel):
    configuration_link: str = Field(
        description="MetaApi's page where the trader types the account's login and password"
    )
    expires_at: datetime


class AddedAccount(Account):
    """An account as `POST /accounts` answers it. A draft that MetaApi made within the call's wait
    (AWAITING_CREDENTIALS) carries its configuration link; otherwise `GET …/configuration-link`
    gives one once MetaApi has made it."""

    configuration_link: str | None = Field(
        default=None, description="A draft's page at MetaApi where the trader types login and password"
    )
    configuration_link_expires_at: datetime | None = None

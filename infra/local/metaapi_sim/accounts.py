"""A MetaApi account as provisioning sees it, with its terminal, armed faults and trade journal."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from infra.local.metaapi_sim.errors import ApiError, not_authenticated, not_connected
from infra.local.metaapi_sim.faults import FaultBook
from infra.local.metaapi_sim.terminal import Terminal
from infra.local.metaapi_sim.wire import iso

DRAFT, DEPLOYING, DEPLOYED = "DRAFT", "DEPLOYING", "DEPLOYED"
UNDEPLOYING, UNDEPLOYED = "UNDEPLOYING", "UNDEPLOYED"
CONNECTED, DISCONNECTED, DISCONNECTED_FROM_BROKER = "CONNECTED", "DISCONNECTED", "DISCONNECTED_FROM_BROKER"


@dataclass
class TradeRecord:
    """One `POST .../trade` as received; filled in as its outcome becomes known."""

    time: float
    body: Any
    fault: str | None
    http_status: int | None = None
    response: dict[str, Any] | None = None
    executed: bool = False
    late_result: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        record = {
            "time": iso(self.time),
            "body": self.body,
            "fault": self.fault,
            "httpStatus": self.http_status,
            "response": self.response,
            "executed": self.executed,
        }
        if self.late_result is not None:
            record["lateResult"] = self.late_result
        return record


@dataclass
class Account:
    """Its state moves on the wall clock: DEPLOYING and UNDEPLOYING end at `settles_at`, which
    `settle` applies whenever the account is touched. A DRAFT has no login until configured."""

    id: str
    owner: str
    name: str
    login: str | None
    server: str | None
    magic: int
    platform: str
    region: str
    created_at: float
    terminal: Terminal
    metadata: dict[str, Any] | None = None
    tags: list[str] = field(default_factory=list)
    slippage: int | Decimal | None = None
    manual_trades: bool = False
    reliability: str = "regular"
    state: str = DEPLOYED
    settles_at: float | None = None
    # False for a deployment started while the admin API's neverConnect was on: it never connects.
    connects: bool = True
    broker_reachable: bool = True
    credentials_valid: bool = True
    faults: FaultBook = field(default_factory=FaultBook)
    trades: list[TradeRecord] = field(default_factory=list)

    @property
    def connection_status(self) -> str:
        if self.state != DEPLOYED:
            return DISCONNECTED
        if self.connects and self.broker_reachable and self.credentials_valid:
            return CONNECTED
        return DISCONNECTED_FROM_BROKER

    @property
    def shown_connection_status(self) -> str:
        """An armed `empty_positions` fault plays a terminal that is reconnecting."""
        if self.faults.armed("positions", "empty_positions"):
            return DISCONNECTED
        return self.connection_status

    @property
    def version(self) -> int:
        return 4 if self.platform == "mt4" else 5

    @property
    def connected(self) -> bool:
        return self.connection_status == CONNECTED

    def require_connection(self) -> None:
        """What a client call meets unless the terminal is deployed and connected."""
        if self.connected:
            return
        if self.state == DEPLOYED and not self.credentials_valid:
            raise not_authenticated()
        raise not_connected()

    def settle(self, now: float) -> None:
        """Ends the deployment or undeployment in progress once its time is up."""
        if self.settles_at is not None and now >= self.settles_at:
            self.state = DEPLOYED if self.state == DEPLOYING else UNDEPLOYED
            self.settles_at = None

    def deploy(self, now: float, seconds: float, *, connects: bool) -> None:
        """Ignored while deployed or deploying, as MetaApi ignores it."""
        self._require_credentials()
        if self.state not in (DEPLOYED, DEPLOYING):
            self.redeploy(now, seconds, connects=connects)

    def redeploy(self, now: float, seconds: float, *, connects: bool) -> None:
        self._require_credentials()
        self.state, self.settles_at, self.connects = DEPLOYING, now + seconds, connects
        self.settle(now)

    def undeploy(self, now: float, seconds: float) -> None:
        """Ignored while undeployed or undeploying."""
        self._require_credentials()
        if self.state not in (UNDEPLOYED, UNDEPLOYING):
            self.state, self.settles_at = UNDEPLOYING, now + seconds
            self.settle(now)

    def configure(self, login: str, server: str) -> None:
        """New credentials the broker took: a draft becomes an account ready to deploy."""
        self.login, self.server, self.credentials_valid = login, server, True
        if self.state == DRAFT:
            self.state = UNDEPLOYED

    def _require_credentials(self) -> None:
        if self.state == DRAFT:
            raise ApiError(
                400,
                f"Account {self.id} has no login and password yet: configure it through its "
                "configuration link first",
            )

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"_id": self.id, "name": self.name}
        if self.login is not None:  # a draft has none yet
            body["login"] = self.login
        if self.server is not None:
            body["server"] = self.server
        body |= {
            "magic": self.magic,
            "state": self.state,
            "connectionStatus": self.shown_connection_status,
            "type": "cloud-g2",
            "version": self.version,
            "platform": self.platform,
            "region": self.region,
            "reliability": self.reliability,
            "tags": self.tags,
            "manualTrades": self.manual_trades,
            "createdAt": iso(self.created_at),
        }
        if self.metadata is not None:
            body["metadata"] = self.metadata
        if self.slippage is not None:
            body["slippage"] = self.slippage
        return body

"""A MetaApi account as provisioning sees it, with its terminal, armed faults and trade journal."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from infra.local.metaapi_sim.faults import FaultBook
from infra.local.metaapi_sim.terminal import Terminal
from infra.local.metaapi_sim.wire import iso

DEPLOYED, UNDEPLOYED = "DEPLOYED", "UNDEPLOYED"
CONNECTED, DISCONNECTED = "CONNECTED", "DISCONNECTED"


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
    id: str
    owner: str
    name: str
    login: str
    server: str
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
    connection_status: str = CONNECTED
    faults: FaultBook = field(default_factory=FaultBook)
    trades: list[TradeRecord] = field(default_factory=list)

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
        return self.state == DEPLOYED and self.connection_status == CONNECTED

    def deploy(self) -> None:
        self.state, self.connection_status = DEPLOYED, CONNECTED

    def undeploy(self) -> None:
        self.state, self.connection_status = UNDEPLOYED, DISCONNECTED

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "_id": self.id,
            "name": self.name,
            "login": self.login,
            "server": self.server,
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

"""Account events, read from the table's stream as trade events are: what sync (or a trade's
refresh) wrote becomes `PositionOpened`, `PositionModified`, `PositionClosed`, `OrderPlaced`,
`OrderFilled`, `OrderCanceled`, `AccountUpdated`, `AccountDisconnected` or `SyncFailed`; a loss
limit breached, `RiskLimitBreached`; trading halted or resumed, `AccountHalted` or `AccountResumed`;
an operation at MetaApi ended, `AccountReady`, `AccountUndeployed` or `AccountProvisioningFailed`.

Each event exists exactly when its write happened; a write that changes nothing a subscriber
cares about (a position's floating profit) is no event."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from mtcore.store.codec import from_item

SOURCE = "mt-backend.accounts"
# What makes a position "modified" for a subscriber; prices and profit move all the time.
_POSITION_FIELDS = ("stopLoss", "takeProfit", "volume", "trailingStopLoss")
_ACCOUNT_FIELDS = ("balance", "equity", "margin", "freeMargin", "marginLevel", "connectionStatus", "state")
_PENDING_TYPES = ("_LIMIT", "_STOP")
_ENDED = {"ORDER_STATE_FILLED": "OrderFilled"} | dict.fromkeys(
    ("ORDER_STATE_CANCELED", "ORDER_STATE_EXPIRED", "ORDER_STATE_REJECTED"), "OrderCanceled"
)
_KEYS = ("pk", "sk", "entity", "ttl", "snapshotAt")
# Where an operation at MetaApi ends, as subscribers hear of it.
_PROVISIONED = {
    "READY": "AccountReady",
    "UNDEPLOYED": "AccountUndeployed",
    "FAILED": "AccountProvisioningFailed",
}


def detail_types_of(record: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The events a stream record stands for, each with its item (none for most writes)."""
    change = record.get("dynamodb") or {}
    new_image = change.get("NewImage")
    if not new_image:
        return []
    new = from_item(new_image)
    old = from_item(change.get("OldImage") or {})
    entity, inserted = new.get("entity"), record.get("eventName") == "INSERT"
    kinds: list[str] = []
    if entity == "POSITION":
        if inserted:
            kinds.append("PositionOpened")
        elif any(new.get(name) != old.get(name) for name in _POSITION_FIELDS):
            kinds.append("PositionModified")
    elif entity == "CLOSED_POSITION" and inserted:
        kinds.append("PositionClosed")
    elif entity == "ORDER" and inserted:
        kinds.append("OrderPlaced")
    elif entity == "HISTORY_ORDER" and inserted and str(new.get("type", "")).endswith(_PENDING_TYPES):
        kinds += [kind for kind in (_ENDED.get(str(new.get("state"))),) if kind]
    elif entity == "ACCOUNT" and not inserted:
        kinds = _account_kinds(new, old)
    elif entity == "RISK":
        acted = _newly_acted(new, old)
        if acted:
            return [("RiskLimitBreached", {"pk": new["pk"], **acted[0]})]
    elif entity == "SYNC_LOG" and new.get("status") == "error" and old.get("status") != "error":
        kinds.append("SyncFailed")
    return [(kind, new) for kind in kinds]


def _account_kinds(new: dict[str, Any], old: dict[str, Any]) -> list[str]:
    """A sync's one write of the account item can start a disconnection and move balances; an
    operation at MetaApi ends it ready, undeployed or failed."""
    if bool(new.get("tradingHalted")) != bool(old.get("tradingHalted")):
        return ["AccountHalted" if new.get("tradingHalted") else "AccountResumed"]
    status = new.get("provisioningStatus")
    if status != old.get("provisioningStatus") and status in _PROVISIONED:
        return [_PROVISIONED[str(status)]]
    kinds = []
    if new.get("disconnectedSince") and not old.get("disconnectedSince"):
        kinds.append("AccountDisconnected")
    if any(new.get(name) != old.get(name) for name in _ACCOUNT_FIELDS):
        kinds.append("AccountUpdated")
    return kinds


def _newly_acted(new: dict[str, Any], old: dict[str, Any]) -> list[dict[str, Any]]:
    """Breaches `onBreach` was applied for by this write: each is announced once, when acted on."""

    def acted(item: dict[str, Any]) -> list[dict[str, Any]]:
        return [b for b in (item.get("state") or {}).get("breaches") or [] if b.get("actedAt")]

    before = {(b["code"], b["at"]) for b in acted(old)}
    return [b for b in acted(new) if (b["code"], b["at"]) not in before]


def _json_value(value: object) -> object:
    return float(value) if isinstance(value, Decimal) else str(value)


def account_event_entry(
    detail_type: str, item: dict[str, Any], bus_name: str, owner_of: Callable[[str], str | None]
) -> dict[str, Any]:
    """The event for a subscriber: the item as the API shows it, its account and its owner."""
    pk = str(item["pk"])
    account_id = str(item.get("id")) if pk.startswith("USER#") else pk.removeprefix("ACCOUNT#")
    user_id = str(item["userId"]) if "userId" in item else owner_of(account_id)
    detail = {name: value for name, value in item.items() if name not in _KEYS}
    detail |= {"accountId": account_id, "userId": user_id}
    return {
        "Source": SOURCE,
        "DetailType": detail_type,
        "Detail": json.dumps(detail, default=_json_value),
        "EventBusName": bus_name,
        "Resources": [],
    }

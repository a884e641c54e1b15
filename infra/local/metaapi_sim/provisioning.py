"""Provisioning API bodies and filters: what create, update and list accept."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from werkzeug.datastructures import MultiDict

from infra.local.metaapi_sim.accounts import Account
from infra.local.metaapi_sim.errors import invalid

REJECTED_PASSWORD = "wrong"  # noqa: S105 - the simulator's way to play a broker refusing the login
MAX_METADATA_CHARS = 1024
MAX_PAGE = 1000
STATES = frozenset(
    {
        "CREATED",
        "DEPLOYING",
        "DEPLOYED",
        "DEPLOY_FAILED",
        "UNDEPLOYING",
        "UNDEPLOYED",
        "UNDEPLOY_FAILED",
        "DELETING",
        "DELETE_FAILED",
        "REDEPLOY_FAILED",
        "DRAFT",
    }
)
CONNECTION_STATUSES = frozenset({"CONNECTED", "DISCONNECTED", "DISCONNECTED_FROM_BROKER"})
# Accepted so real clients are not refused, but nothing in the simulator depends on them.
UNMODELLED_CREATE_FIELDS = frozenset(
    {
        "provisioningProfileId",
        "type",
        "keywords",
        "symbol",
        "quoteStreamingIntervalInSeconds",
        "resourceSlots",
        "copyFactoryResourceSlots",
        "copyFactoryRoles",
        "baseCurrency",
        "riskManagementApiEnabled",
        "metastatsApiEnabled",
        "allocateDedicatedIp",
        "application",
    }
)
UNMODELLED_UPDATE_FIELDS = frozenset(
    {"quoteStreamingIntervalInSeconds", "resourceSlots", "copyFactoryResourceSlots", "allocateDedicatedIp"}
)


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise invalid("must be a non-empty string", parameter=name, value=value)
    return value


def _magic(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid("must be a non-negative integer", parameter=name, value=value)
    return value


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if not isinstance(value, bool):
        raise invalid("must be a boolean", parameter=name, value=value)
    return value


def _slippage(body: dict[str, Any], name: str) -> int | Decimal:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or value < 0:
        raise invalid("must be a number >= 0", parameter=name, value=value)
    return value


def _tags(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name)
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise invalid("must be an array of strings", parameter=name, value=value)
    return value


def _metadata(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if not isinstance(value, dict):
        raise invalid("must be an object", parameter=name, value=value)
    if len(json.dumps(value, default=str)) > MAX_METADATA_CHARS:
        raise invalid(f"must be at most {MAX_METADATA_CHARS} characters as JSON", parameter=name)
    return value


def _login(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.isdigit():
        raise invalid("must be a string of digits", parameter=name, value=value)
    return value


def _check_manual_trades(magic: int, manual_trades: bool) -> None:
    if manual_trades and magic != 0:
        raise invalid("must be 0 when manualTrades is true", parameter="magic", value=magic)


def _reject_unknown(body: dict[str, Any], known: frozenset[str]) -> None:
    for name in body:
        if name not in known:
            raise invalid("is not allowed", parameter=name)


@dataclass(frozen=True)
class NewAccount:
    """A validated create request. The password itself is never kept, only whether the broker took it.
    Without login and password it makes a draft, whose owner types them in through a configuration link."""

    name: str
    server: str | None
    login: str | None
    magic: int
    platform: str
    region: str
    reliability: str
    credentials_rejected: bool
    metadata: dict[str, Any] | None = None
    tags: list[str] = field(default_factory=list)
    manual_trades: bool = False
    slippage: int | Decimal | None = None

    @property
    def draft(self) -> bool:
        return self.login is None


_CREATE_FIELDS = (
    frozenset(
        {"name", "server", "login", "password", "platform", "magic", "region", "reliability"}
        | {"metadata", "tags", "manualTrades", "slippage"}
    )
    | UNMODELLED_CREATE_FIELDS
)


def _credentials(body: dict[str, Any]) -> tuple[str | None, bool]:
    """The login, and whether the broker refuses the password. Neither given makes a draft."""
    given = [name for name in ("login", "password") if name in body]
    if not given:
        return None, False
    if len(given) == 1:
        missing = "password" if given == ["login"] else "login"
        raise invalid(f"is required with {given[0]}: send both, or neither for a draft", parameter=missing)
    return _login(body, "login"), _text(body, "password") == REJECTED_PASSWORD


def parse_new_account(body: dict[str, Any]) -> NewAccount:
    _reject_unknown(body, _CREATE_FIELDS)
    login, credentials_rejected = _credentials(body)
    platform = body.get("platform")
    if platform not in ("mt4", "mt5"):
        raise invalid("must be mt4 or mt5", parameter="platform", value=platform)
    reliability = body.get("reliability", "regular")
    if reliability not in ("regular", "high"):
        raise invalid("must be regular or high", parameter="reliability", value=reliability)
    magic = _magic(body, "magic")
    manual_trades = _flag(body, "manualTrades") if "manualTrades" in body else False
    _check_manual_trades(magic, manual_trades)
    return NewAccount(
        name=_text(body, "name"),
        server=_text(body, "server") if "server" in body or login is not None else None,
        login=login,
        magic=magic,
        platform=str(platform),
        region=_text(body, "region") if "region" in body else "london",
        reliability=str(reliability),
        credentials_rejected=credentials_rejected,
        metadata=_metadata(body, "metadata") if "metadata" in body else None,
        tags=_tags(body, "tags") if "tags" in body else [],
        manual_trades=manual_trades,
        slippage=_slippage(body, "slippage") if "slippage" in body else None,
    )


# Body field -> (Account attribute, parser); the password is checked but never kept.
_UPDATABLE: dict[str, tuple[str | None, Callable[[dict[str, Any], str], Any]]] = {
    "name": ("name", _text),
    "server": ("server", _text),
    "magic": ("magic", _magic),
    "manualTrades": ("manual_trades", _flag),
    "slippage": ("slippage", _slippage),
    "tags": ("tags", _tags),
    "metadata": ("metadata", _metadata),
    "password": (None, _text),
}


def update_account(account: Account, body: dict[str, Any]) -> None:
    """Validates everything before changing anything, so a refused update leaves the account as it was."""
    _reject_unknown(body, frozenset(_UPDATABLE) | UNMODELLED_UPDATE_FIELDS)
    parsed = [
        (attribute, parse(body, name)) for name, (attribute, parse) in _UPDATABLE.items() if name in body
    ]
    changes = {attribute: value for attribute, value in parsed if attribute is not None}
    _check_manual_trades(
        changes.get("magic", account.magic), changes.get("manual_trades", account.manual_trades)
    )
    for attribute, value in changes.items():
        setattr(account, attribute, value)


def page_bounds(args: MultiDict[str, str]) -> tuple[int, int]:
    """`offset` >= 0 (default 0) and `limit` 1..1000 (default 1000), as every MetaApi list takes them."""
    bounds = []
    for name, default, low, high in (("offset", 0, 0, None), ("limit", MAX_PAGE, 1, MAX_PAGE)):
        raw = args.get(name)
        try:
            value = default if raw is None else int(raw)
        except ValueError:
            value = -1
        if value < low or (high is not None and value > high):
            limits = f">= {low}" if high is None else f"{low}..{high}"
            raise invalid(f"must be an integer {limits}", parameter=name, value=raw)
        bounds.append(value)
    return bounds[0], bounds[1]


def _choices(args: MultiDict[str, str], name: str, allowed: frozenset[str] | None) -> set[str]:
    values = set(args.getlist(name))
    for value in values:
        if allowed is not None and value not in allowed:
            raise invalid(f"must be one of {sorted(allowed)}", parameter=name, value=value)
    return values


def select_accounts(accounts: list[Account], args: MultiDict[str, str]) -> tuple[int, list[Account]]:
    """The matching accounts' count, and the requested page of them."""
    offset, limit = page_bounds(args)
    query = (args.get("query") or "").lower()
    states = _choices(args, "state", STATES)
    statuses = _choices(args, "connectionStatus", CONNECTION_STATUSES)
    regions = _choices(args, "region", None)
    versions = _choices(args, "version", frozenset({"4", "5"}))
    chosen = [
        account
        for account in accounts
        if (
            not query
            or any(
                query in text.lower()
                for text in (account.id, account.name, account.server, account.login)
                if text is not None
            )
        )
        and (not states or account.state in states)
        and (not statuses or account.shown_connection_status in statuses)
        and (not regions or account.region in regions)
        and (not versions or str(account.version) in versions)
    ]
    return len(chosen), chosen[offset : offset + limit]

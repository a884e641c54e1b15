"""The `/_sim` admin API: arm faults, open positions by hand, pin prices, override symbol rules,
time provisioning and play the broker's side of it. No auth-token needed."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from infra.local.metaapi_sim import client
from infra.local.metaapi_sim.accounts import Account
from infra.local.metaapi_sim.errors import ApiError, invalid
from infra.local.metaapi_sim.faults import parse_fault
from infra.local.metaapi_sim.market import Market
from infra.local.metaapi_sim.symbols import CURRENCIES, EXPIRATION_MODES, ORDER_TYPES, TRADE_MODES, Catalogue
from infra.local.metaapi_sim.terminal import Fill, Stamp
from infra.local.metaapi_sim.trading import open_market
from infra.local.metaapi_sim.wire import positive

# Specification field -> SymbolSpec attribute, for what `PUT /_sim/symbols/{symbol}` may change.
_LISTS = {
    "allowedOrderTypes": ("order_types", ORDER_TYPES),
    "allowedExpirationModes": ("expiration_modes", EXPIRATION_MODES),
}
_LEVELS = {"stopsLevel": "stops_level", "freezeLevel": "freeze_level"}
_VOLUMES = {"minVolume": "min_volume", "maxVolume": "max_volume", "volumeStep": "volume_step"}
_OVERRIDABLE = ("tradeMode", *_LISTS, *_LEVELS, *_VOLUMES)
# Provisioning and broker field -> attribute, for `PUT /_sim/provisioning` and `.../broker`.
_TIMINGS = {
    "creationSeconds": "creation_seconds",
    "deploySeconds": "deploy_seconds",
    "undeploySeconds": "undeploy_seconds",
}
MAX_TIMING_SECONDS = 600
_BROKER = {"reachable": "broker_reachable", "credentialsValid": "credentials_valid"}
_SUMMARY = (
    "name",
    "login",
    "server",
    "platform",
    "region",
    "state",
    "connectionStatus",
    "metadata",
    "createdAt",
)


@dataclass
class Provisioning:
    """How long provisioning takes and whether deployments connect (wall-clock seconds), and what
    the provisioning API has done."""

    creation_seconds: float
    deploy_seconds: float
    undeploy_seconds: float
    never_connect: bool = False
    accounts_created: int = 0
    accounts_deleted: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "creationSeconds": self.creation_seconds,
            "deploySeconds": self.deploy_seconds,
            "undeploySeconds": self.undeploy_seconds,
            "neverConnect": self.never_connect,
            "accountsCreated": self.accounts_created,
            "accountsDeleted": self.accounts_deleted,
        }


def arm_fault(account: Account, body: dict[str, Any]) -> dict[str, Any]:
    fault = parse_fault(body)
    account.faults.arm(fault)
    return fault.to_json()


def _optional(body: dict[str, Any], name: str) -> Decimal | None:
    return None if body.get(name) is None else positive(body, name)


def open_position_by_hand(account: Account, body: dict[str, Any]) -> dict[str, Any]:
    """Opens a position as a person at the terminal would: no clientId, reason CLIENT, magic 0."""
    symbol, side, comment = body.get("symbol"), body.get("type"), body.get("comment")
    spec = account.terminal.symbols.get(symbol) if isinstance(symbol, str) else None
    if spec is None:
        raise invalid("must be a known symbol", parameter="symbol", value=symbol)
    if side not in ("POSITION_TYPE_BUY", "POSITION_TYPE_SELL"):
        raise invalid("must be POSITION_TYPE_BUY or POSITION_TYPE_SELL", parameter="type", value=side)
    if comment is not None and not isinstance(comment, str):
        raise invalid("must be a string", parameter="comment", value=comment)
    fill = Fill(
        spec=spec,
        is_buy=side == "POSITION_TYPE_BUY",
        volume=positive(body, "volume"),
        stop_loss=_optional(body, "stopLoss"),
        take_profit=_optional(body, "takeProfit"),
        stamp=Stamp(magic=0, comment=comment, client_id=None, origin="CLIENT"),
        filling_mode="ORDER_FILLING_FOK",
    )
    # A test hook for "this position exists at the broker": it must work on any day the tests or a
    # developer run, and whatever rules a test set on the symbol, so only volume, stops and money apply.
    result = open_market(account.terminal, fill, broker_rules=False)
    if not result.executed or result.position_id is None:
        raise ApiError(400, result.message, details=result.to_json())
    return account.terminal.position_json(account.terminal.positions[result.position_id])


def change_account(account: Account, body: dict[str, Any]) -> None:
    """Sets the account's currency, balance (the difference booked as a balance deal, as a deposit
    or a withdrawal is) and leverage; fields not sent stay."""
    terminal = account.terminal
    unknown = set(body) - {"currency", "balance", "leverage"}
    if unknown:
        raise invalid("is not a field that can be changed", parameter=sorted(unknown)[0])
    currency, leverage = body.get("currency", terminal.currency), body.get("leverage", terminal.leverage)
    if currency not in CURRENCIES:
        raise invalid(f"must be one of {', '.join(CURRENCIES)}", parameter="currency", value=currency)
    if not isinstance(leverage, int) or isinstance(leverage, bool) or leverage < 1:
        raise invalid("must be a whole number, at least 1", parameter="leverage", value=leverage)
    terminal.currency, terminal.leverage = currency, leverage
    if "balance" in body:
        terminal.set_balance(positive(body, "balance"))


def name_symbols(symbols: Catalogue, market: Market, account: Account, body: dict[str, Any]) -> list[str]:
    """What this account's broker calls its symbols: `{"symbols": {"EURUSD.m": "EURUSD", ...}}`
    lists exactly these names, each trading as the catalogue symbol it names."""
    names = body.get("symbols")
    if not isinstance(names, dict) or not names:
        raise invalid("must map each broker name to a catalogue symbol", parameter="symbols")
    for name, base in names.items():
        spec_of = symbols.get(base) if isinstance(base, str) else None
        if spec_of is None or not isinstance(name, str) or not name:
            raise invalid("must name a catalogue symbol", parameter=f"symbols.{name}", value=base)
        if name != base:
            symbols.alias(name, base)
            market.alias(name, base)
    account.terminal.symbol_names = sorted(names)
    return account.terminal.symbol_names


def pin_price(symbols: Catalogue, market: Market, symbol: str, body: dict[str, Any]) -> dict[str, Any]:
    spec = client.spec_of(symbols, symbol)
    bid, ask = positive(body, "bid"), positive(body, "ask")
    for name, price in (("bid", bid), ("ask", ask)):
        if not spec.has_digits(price):
            raise invalid(f"must have at most {spec.digits} decimals", parameter=name, value=price)
    if ask < bid:
        raise invalid("must not be below bid", parameter="ask", value=ask)
    return client.quote_json(market.pin(symbol, bid, ask))


def override_symbol(symbols: Catalogue, symbol: str, body: dict[str, Any]) -> dict[str, Any]:
    """Changes broker rules of one symbol, on top of earlier overrides; answers its specification."""
    spec = client.spec_of(symbols, symbol)
    changes: dict[str, Any] = {}
    for name, value in body.items():
        if name == "tradeMode":
            changes["trade_mode"] = _one_of(name, value, TRADE_MODES)
        elif name in _LISTS:
            attribute, allowed = _LISTS[name]
            changes[attribute] = _some_of(name, value, allowed)
        elif name in _LEVELS:
            changes[_LEVELS[name]] = _points(name, value)
        elif name in _VOLUMES:
            changes[_VOLUMES[name]] = positive(body, name)
        else:
            raise invalid(
                f"is not a setting the simulator overrides; use {list(_OVERRIDABLE)}", parameter=name
            )
    changed = dataclasses.replace(spec, **changes)
    if changed.min_volume > changed.max_volume:
        raise invalid(
            f"must not exceed maxVolume {changed.max_volume}", parameter="minVolume", value=changed.min_volume
        )
    symbols.replace(changed)
    return changed.specification()


def reset_symbol(symbols: Catalogue, symbol: str) -> None:
    symbols.reset(client.spec_of(symbols, symbol).symbol)


def _one_of(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise invalid(f"must be one of {list(allowed)}", parameter=name, value=value)
    return str(value)


def _some_of(name: str, value: Any, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or any(item not in allowed for item in value)
        or len(set(value)) < len(value)
    ):
        raise invalid(
            f"must be an array of distinct values from {list(allowed)}", parameter=name, value=value
        )
    return tuple(value)


def _points(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid("must be a whole number of points >= 0", parameter=name, value=value)
    return value


def change_provisioning(provisioning: Provisioning, body: dict[str, Any]) -> None:
    """Any of the timings and `neverConnect`; validates everything before changing anything."""
    changes: dict[str, float | bool] = {}
    for name, value in body.items():
        if name in _TIMINGS:
            if (
                isinstance(value, bool)
                or not isinstance(value, int | Decimal)
                or not 0 <= value <= MAX_TIMING_SECONDS
            ):
                raise invalid(f"must be a number from 0 to {MAX_TIMING_SECONDS}", parameter=name, value=value)
            changes[_TIMINGS[name]] = float(value)
        elif name == "neverConnect":
            changes["never_connect"] = _boolean(name, value)
        else:
            raise invalid(f"is not a setting; use {[*_TIMINGS, 'neverConnect']}", parameter=name)
    for attribute, setting in changes.items():
        setattr(provisioning, attribute, setting)


def set_broker(account: Account, body: dict[str, Any]) -> None:
    """Whether the account's broker answers and takes its credentials, until changed again."""
    for name in body:
        if name not in _BROKER:
            raise invalid(f"is not a broker setting; use {list(_BROKER)}", parameter=name)
    changes = {_BROKER[name]: _boolean(name, value) for name, value in body.items()}
    for attribute, setting in changes.items():
        setattr(account, attribute, setting)


def set_quota(quotas: dict[str, int | None], region: str, body: dict[str, Any]) -> dict[str, Any]:
    """`{"maxAccounts": n}`: how many accounts the region may hold; null lifts the quota."""
    for name in body:
        if name != "maxAccounts":
            raise invalid("is not allowed; send maxAccounts only", parameter=name)
    if "maxAccounts" not in body:
        raise invalid("is required: an integer >= 0, or null", parameter="maxAccounts")
    quota = body["maxAccounts"]
    if quota is not None and (isinstance(quota, bool) or not isinstance(quota, int) or quota < 0):
        raise invalid("must be an integer >= 0, or null", parameter="maxAccounts", value=quota)
    quotas[region] = quota
    return {"region": region, "maxAccounts": quota}


def account_summary(account: Account) -> dict[str, Any]:
    """An account as the admin API lists it, whoever owns it (the token is not shown)."""
    shown = account.to_json()
    return {"id": account.id, **{name: shown[name] for name in _SUMMARY if name in shown}}


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid("must be a boolean", parameter=name, value=value)
    return value

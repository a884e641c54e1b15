"""The `/_sim` admin API: arm faults, open positions by hand, pin prices. No auth-token needed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from infra.local.metaapi_sim import client
from infra.local.metaapi_sim.accounts import Account
from infra.local.metaapi_sim.errors import ApiError, invalid
from infra.local.metaapi_sim.faults import parse_fault
from infra.local.metaapi_sim.market import Market
from infra.local.metaapi_sim.symbols import SYMBOLS
from infra.local.metaapi_sim.terminal import Fill, Stamp
from infra.local.metaapi_sim.trading import open_market
from infra.local.metaapi_sim.wire import positive


def arm_fault(account: Account, body: dict[str, Any]) -> dict[str, Any]:
    fault = parse_fault(body)
    account.faults.arm(fault)
    return fault.to_json()


def _optional(body: dict[str, Any], name: str) -> Decimal | None:
    return None if body.get(name) is None else positive(body, name)


def open_position_by_hand(account: Account, body: dict[str, Any]) -> dict[str, Any]:
    """Opens a position as a person at the terminal would: no clientId, reason CLIENT, magic 0."""
    symbol, side, comment = body.get("symbol"), body.get("type"), body.get("comment")
    spec = SYMBOLS.get(symbol) if isinstance(symbol, str) else None
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
    # A test hook for "this position exists at the broker": it must work on any day the tests
    # or a developer run, so it is not bound to the symbol's trading sessions.
    result = open_market(account.terminal, fill, within_sessions=False)
    if not result.executed or result.position_id is None:
        raise ApiError(400, result.message, details=result.to_json())
    return account.terminal.position_json(account.terminal.positions[result.position_id])


def pin_price(market: Market, symbol: str, body: dict[str, Any]) -> dict[str, Any]:
    spec = client.spec_of(symbol)
    bid, ask = positive(body, "bid"), positive(body, "ask")
    for name, price in (("bid", bid), ("ask", ask)):
        if not spec.has_digits(price):
            raise invalid(f"must have at most {spec.digits} decimals", parameter=name, value=price)
    if ask < bid:
        raise invalid("must not be below bid", parameter="ask", value=ask)
    market.pin(symbol, bid, ask)
    return client.current_price(market, symbol)

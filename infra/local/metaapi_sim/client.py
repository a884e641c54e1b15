"""Client API reads: account information, positions, orders, history, symbols, prices, margin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from werkzeug.datastructures import MultiDict

from infra.local.metaapi_sim.accounts import Account
from infra.local.metaapi_sim.errors import invalid, not_found
from infra.local.metaapi_sim.market import Quote
from infra.local.metaapi_sim.models import Deal, Order
from infra.local.metaapi_sim.provisioning import page_bounds
from infra.local.metaapi_sim.symbols import Catalogue, SymbolSpec
from infra.local.metaapi_sim.terminal import Terminal
from infra.local.metaapi_sim.wire import broker_time, iso, parse_iso, positive

BROKER = "Sim Broker Ltd"
Record = TypeVar("Record", Order, Deal)


def account_information(account: Account) -> dict[str, Any]:
    terminal = account.terminal
    return {
        "platform": terminal.platform,
        "broker": BROKER,
        "currency": terminal.currency,
        "server": account.server,
        **terminal.information(),
        "tradeAllowed": True,
        "name": account.name,
        "login": None if account.login is None else int(account.login),  # a draft, seen by the admin API
        "type": "ACCOUNT_TRADE_MODE_DEMO",
    }


def positions(terminal: Terminal) -> list[dict[str, Any]]:
    return [terminal.position_json(position) for position in terminal.positions.values()]


def position(terminal: Terminal, position_id: str) -> dict[str, Any]:
    found = terminal.positions.get(position_id)
    if found is None:
        raise not_found(f"Position {position_id} not found")
    return terminal.position_json(found)


def orders(terminal: Terminal) -> list[dict[str, Any]]:
    return [terminal.order_json(order) for order in terminal.orders.values()]


def order(terminal: Terminal, order_id: str) -> dict[str, Any]:
    found = terminal.orders.get(order_id)
    if found is None:
        raise not_found(f"Order {order_id} not found")
    return terminal.order_json(found)


def _time_of(record: Order | Deal) -> float:
    """History orders are selected by when they were done, deals by when they happened."""
    if isinstance(record, Order) and record.done_time is not None:
        return record.done_time
    return record.time


def between(
    records: Sequence[Record], start: str, end: str, args: MultiDict[str, str]
) -> list[dict[str, Any]]:
    """Start inclusive, end exclusive, oldest first, then `offset` and `limit`."""
    try:
        low, high = parse_iso(start), parse_iso(end)
    except ValueError as error:
        raise invalid(f"startTime and endTime must be ISO-8601 times: {error}") from error
    offset, limit = page_bounds(args)
    chosen = sorted((r for r in records if low <= _time_of(r) < high), key=_time_of)
    return [record.to_json() for record in chosen[offset : offset + limit]]


def by_position(records: Sequence[Record], position_id: str) -> list[dict[str, Any]]:
    return [record.to_json() for record in records if record.position_id == position_id]


def by_ticket(records: Sequence[Record], ticket: str) -> list[dict[str, Any]]:
    return [record.to_json() for record in records if record.id == ticket]


def spec_of(symbols: Catalogue, symbol: str) -> SymbolSpec:
    spec = symbols.get(symbol)
    if spec is None:
        raise not_found(f"Symbol {symbol} not found")
    return spec


def quote_json(quote: Quote) -> dict[str, Any]:
    return {
        "symbol": quote.symbol,
        "bid": quote.bid,
        "ask": quote.ask,
        "time": iso(quote.time),
        "brokerTime": broker_time(quote.time),
    }


def current_price(terminal: Terminal, symbol: str) -> dict[str, Any]:
    """The quote, with what one tick of one lot is worth in the account's currency (converted at
    the mid of the pair that quotes both, so a profit and a loss tick are worth the same)."""
    spec = spec_of(terminal.symbols, symbol)
    tick_value = terminal.tick_value(spec)
    return quote_json(terminal.quote(symbol)) | {"profitTickValue": tick_value, "lossTickValue": tick_value}


def server_time(now: float) -> dict[str, Any]:
    return {"time": iso(now), "brokerTime": broker_time(now)}


def calculate_margin(terminal: Terminal, body: dict[str, Any]) -> dict[str, Any]:
    symbol = body.get("symbol")
    spec = terminal.symbols.get(symbol) if isinstance(symbol, str) else None
    if spec is None:
        raise invalid("must be a known symbol", parameter="symbol", value=symbol)
    if body.get("type") not in ("ORDER_TYPE_BUY", "ORDER_TYPE_SELL"):
        raise invalid("must be ORDER_TYPE_BUY or ORDER_TYPE_SELL", parameter="type", value=body.get("type"))
    volume, price = positive(body, "volume"), positive(body, "openPrice")
    return {"margin": terminal.symbol_margin(spec, volume, price)}

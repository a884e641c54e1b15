"""The writing half of a sync: what changed since our copies, stored so that a late or older
read never undoes a newer one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mtcore.portfolio import ClosedPosition, Deal, HistoryOrder, changed
from mtcore.sync.reading import Reading, Stored, missing

if TYPE_CHECKING:
    from mtcore.accounts import Account
    from mtcore.metaapi.models import Order, Position
    from mtcore.portfolio import HistoryRepository, OrdersRepository, PositionsRepository

# Account fields copied from account information, by Account field name.
_INFO_FIELDS = (
    "balance",
    "equity",
    "margin",
    "free_margin",
    "margin_level",
    "leverage",
    "currency",
    "margin_mode",
    "broker",
)


@dataclass
class Tally:
    synced: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> None:
        self.failed += 1
        self.problems.append(problem)


def write_reading(
    account: Account,
    stored: Stored,
    reading: Reading,
    *,
    positions: PositionsRepository,
    orders: OrdersRepository,
    history: HistoryRepository,
) -> Tally:
    """Store what changed: history once, positions and orders only over older reads and while the
    terminal is connected, closed ones only with their closing deal or history order. The
    account's own changes travel with the sync's last write (see `account_changes`)."""
    tally = Tally()
    if reading.connected:
        tally.synced += history.add_deals(account.id, reading.deals or [])
        done_orders = [*(reading.history_orders or []), *reading.orders_found]
        tally.synced += history.add_history_orders(account.id, done_orders)
        if stored.positions is not None and reading.positions is not None:
            _write_positions(account.id, stored.positions, reading, tally, positions, history)
        if stored.orders is not None and reading.orders is not None:
            _write_orders(account.id, stored.orders, reading, done_orders, tally, orders)
    return tally


def _write_positions(
    account_id: str,
    stored: list[Position],
    reading: Reading,
    tally: Tally,
    positions: PositionsRepository,
    history: HistoryRepository,
) -> None:
    live = reading.positions or []
    known = {position.id: position for position in stored}
    for position in live:
        if changed(known.get(position.id), position) and positions.put_if_newer(
            account_id, position, snapshot_at=reading.at
        ):
            tally.synced += 1
    for position in missing(stored, live):
        deals = [deal for deal in reading.deals or [] if deal.position_id == position.id]
        closed = closed_position(position, deals)
        if closed is None:
            tally.fail(f"position {position.id} is gone but its closing deal is not in the history yet")
        elif history.close_position(account_id, closed, snapshot_at=reading.at):
            tally.synced += 1


def _write_orders(
    account_id: str,
    stored: list[Order],
    reading: Reading,
    done_orders: list[HistoryOrder],
    tally: Tally,
    orders: OrdersRepository,
) -> None:
    live = reading.orders or []
    known = {order.id: order for order in stored}
    for order in live:
        if changed(known.get(order.id), order) and orders.put_if_newer(
            account_id, order, snapshot_at=reading.at
        ):
            tally.synced += 1
    done = {order.id for order in done_orders}
    for order in missing(stored, live):
        if order.id not in done:
            tally.fail(f"order {order.id} is gone but not in the order history yet")
        elif orders.remove_if_older(account_id, order.id, snapshot_at=reading.at):
            tally.synced += 1


def closed_position(position: Position, deals: Sequence[Deal]) -> ClosedPosition | None:
    """The position as closed by its deals, or None while the history does not show it closed:
    no closing deal yet, or (when its opening deal is known) volume still open, as after a
    partial close."""
    closing = sorted((deal for deal in deals if deal.closes), key=lambda deal: deal.time)
    if not closing:
        return None
    if any(deal.opens for deal in deals) and sum(deal.signed_volume for deal in deals) != 0:
        return None
    last = closing[-1]
    kept = position.model_dump(exclude={"current_price", "unrealized_profit", "profit", "swap", "commission"})
    return ClosedPosition.model_validate(
        kept
        | {
            "closePrice": last.price,
            "closeTime": last.time,
            "closingDealIds": [deal.id for deal in closing],
            "closeReason": last.reason,
            "profit": sum((deal.profit for deal in deals if deal.realizes), Decimal(0)),
            "swap": sum((deal.swap for deal in deals), Decimal(0)),
            "commission": sum((deal.commission for deal in deals), Decimal(0)),
        }
    )


def account_changes(account: Account, reading: Reading) -> dict[str, Any]:
    """Account fields whose value differs from what the broker answered. Balances and the like
    only from a connected terminal: a reconnecting one may answer stale figures."""
    fresh: dict[str, Any] = {
        "state": reading.remote.state,
        "connection_status": reading.remote.connection_status,
    }
    if reading.connected and reading.info is not None:
        fresh |= {name: getattr(reading.info, name) for name in _INFO_FIELDS}
    return {
        name: value for name, value in fresh.items() if value is not None and getattr(account, name) != value
    }

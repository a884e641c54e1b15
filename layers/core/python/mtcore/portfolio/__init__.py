"""What an account holds and held, as stored from the broker: open positions and pending orders,
deals, history orders and closed positions."""

from mtcore.portfolio.history import HistoryRepository, get_history_repository, realized_since
from mtcore.portfolio.models import ClosedPosition, Deal, HistoryOrder
from mtcore.portfolio.open_items import (
    OrdersRepository,
    PositionsRepository,
    changed,
    get_orders_repository,
    get_positions_repository,
)

__all__ = [
    "ClosedPosition",
    "Deal",
    "HistoryOrder",
    "HistoryRepository",
    "OrdersRepository",
    "PositionsRepository",
    "changed",
    "get_history_repository",
    "get_orders_repository",
    "get_positions_repository",
    "realized_since",
]

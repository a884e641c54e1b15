"""What pre-trade checks read from MetaApi, kept per container for a short while.

A warm container checks an order without calling MetaApi: specifications change rarely,
prices and free margin quickly, so each has its own lifetime. The broker still has the last
word: what a stale entry lets through, it refuses, and the executor records why."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Generic, TypeVar

from mtcore.metaapi.errors import MetaApiError
from mtcore.metaapi.together import together

if TYPE_CHECKING:
    from mtcore.metaapi.client import MetaApiClient
    from mtcore.metaapi.models import AccountInformation, SymbolPrice, SymbolSpecification

ValueT = TypeVar("ValueT")
Remote = tuple[str, str | None]

SPECIFICATION_SECONDS = 300.0
PRICE_SECONDS = 2.0
ACCOUNT_SECONDS = 10.0
MARGIN_SECONDS = 60.0
# The broker's clock only jumps at daylight-saving changes: read once an hour, then run on ours.
SERVER_TIME_SECONDS = 3600.0
_MAX_ENTRIES = 2048


class _Expiring(Generic[ValueT]):
    """A bounded map whose entries are forgotten after `seconds`."""

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self._seconds = seconds
        self._clock = clock
        self._entries: OrderedDict[tuple[str, ...], tuple[float, ValueT]] = OrderedDict()

    def fresh(self, key: tuple[str, ...]) -> bool:
        entry = self._entries.get(key)
        return entry is not None and self._clock() - entry[0] < self._seconds

    def get(self, key: tuple[str, ...], load: Callable[[], ValueT]) -> ValueT:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and now - entry[0] < self._seconds:
            return entry[1]
        value = load()
        self._entries[key] = (now, value)
        self._entries.move_to_end(key)
        while len(self._entries) > _MAX_ENTRIES:
            self._entries.popitem(last=False)
        return value


class MarketCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._specifications: _Expiring[SymbolSpecification] = _Expiring(SPECIFICATION_SECONDS, clock)
        self._symbols: _Expiring[list[str]] = _Expiring(SPECIFICATION_SECONDS, clock)
        self._prices: _Expiring[SymbolPrice] = _Expiring(PRICE_SECONDS, clock)
        self._accounts: _Expiring[AccountInformation] = _Expiring(ACCOUNT_SECONDS, clock)
        self._margins: _Expiring[Decimal | None] = _Expiring(MARGIN_SECONDS, clock)
        self._server_times: _Expiring[tuple[float, datetime | None]] = _Expiring(SERVER_TIME_SECONDS, clock)
        self._clock = clock

    def warm(self, client: MetaApiClient, remote: Remote, symbol: str, *, market: bool) -> None:
        """Read side by side what a pre-trade check of an order on `symbol` needs and the cache
        lacks: its specification, its price, the account information and, for a market order,
        the broker's clock. A cold container's first order then waits one round trip, not four.
        A failed read is left for the check itself to meet, where it says what failed."""
        loads: list[tuple[bool, Callable[[], object]]] = [
            (
                self._specifications.fresh((remote[0], symbol)),
                lambda: self.specification(client, remote, symbol),
            ),
            (self._prices.fresh((remote[0], symbol)), lambda: self.price(client, remote, symbol)),
            (self._accounts.fresh((remote[0],)), lambda: self.account_information(client, remote)),
            (not market or self._server_times.fresh((remote[0],)), lambda: self.broker_now(client, remote)),
        ]
        missing = [load for cached, load in loads if not cached]
        if len(missing) > 1:
            with suppress(MetaApiError):
                together(missing)

    def specification(self, client: MetaApiClient, remote: Remote, symbol: str) -> SymbolSpecification:
        return self._specifications.get((remote[0], symbol), lambda: client.specification(remote, symbol))

    def symbols(self, client: MetaApiClient, remote: Remote) -> list[str]:
        """The account's symbol names as its broker spells them."""
        return self._symbols.get((remote[0],), lambda: client.symbols(remote))

    def price(self, client: MetaApiClient, remote: Remote, symbol: str) -> SymbolPrice:
        return self._prices.get((remote[0], symbol), lambda: client.current_price(remote, symbol))

    def account_information(self, client: MetaApiClient, remote: Remote) -> AccountInformation:
        return self._accounts.get((remote[0],), lambda: client.account_information(remote))

    def broker_now(self, client: MetaApiClient, remote: Remote) -> datetime | None:
        """The broker's wall clock now (naive, in the broker's time zone), which trading sessions
        are written in; None when MetaApi does not tell."""

        def load() -> tuple[float, datetime | None]:
            answer = client.server_time(remote)
            broker_time = answer.get("brokerTime") if isinstance(answer, dict) else None
            return self._clock(), _broker_time(broker_time)

        read_at, broker_time = self._server_times.get((remote[0],), load)
        if broker_time is None:
            return None
        return broker_time + timedelta(seconds=self._clock() - read_at)

    def margin_per_lot(
        self,
        client: MetaApiClient,
        remote: Remote,
        symbol: str,
        order_type: str,
        volume: Decimal,
        price: Decimal,
    ) -> Decimal | None:
        """Margin scales with volume, so one answer serves every volume for a while. None when
        MetaApi cannot compute it."""

        def load() -> Decimal | None:
            order = {"symbol": symbol, "type": order_type, "volume": float(volume), "openPrice": float(price)}
            margin = client.calculate_margin(remote, order).get("margin")
            return None if margin is None else Decimal(str(margin)) / volume

        return self._margins.get((remote[0], symbol, order_type), load)


def _broker_time(value: object) -> datetime | None:
    """MetaApi's `brokerTime`: `YYYY-MM-DD HH:mm:ss.SSS` in the broker's time zone."""
    try:
        return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S.%f")
    except ValueError:
        return None


@lru_cache(maxsize=1)
def get_market_cache() -> MarketCache:
    return MarketCache()

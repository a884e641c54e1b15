"""Live prices for the dashboards: a pump that runs only while some connection watches a symbol.

A subscription with symbols starts it (one pump at a time: a lease in the connections table;
each run takes the lease over under a new owner, so a duplicated message runs no second pump);
each second it reads who watches what, asks MetaApi once per watched symbol of each account and
once for the account's positions (however many connections watch them), and pushes `mt:price`
frames to the watchers of each price that moved, with the floating profit of the account's
positions on that symbol when it changed. With nobody watching it stops and releases the lease,
unless a subscription asked for it in the last seconds (the index it reads catches up a moment
later). An account it cannot read, or a frame the management API will not take, costs that tick
only. It runs about a minute per invocation and hands itself on through its queue, so no
invocation outlives its timeout; one that dies is delivered again when its message shows, and
takes the lease over once it has run out."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from mtcore.aws import sqs_client
from mtcore.errors import DomainError
from mtcore.ids import new_ulid
from mtcore.metaapi.errors import MetaApiRateLimited
from mtcore.metaapi.together import together
from mtcore.models import CamelModel
from mtcore.observability import logger
from mtcore.realtime.models import Frame, FrameType
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from mtcore.accounts import Account, AccountsRepository, MetaApiAccess
    from mtcore.metaapi.models import Position, SymbolPrice
    from mtcore.realtime.connections import Connection, ConnectionsRepository
    from mtcore.realtime.push import Push

TICK_S = 1.0
# A lease outlives a tick that is slow; a pump that died leaves it to the next subscription.
LEASE = timedelta(seconds=15)
# A subscription that wanted the pump this recently keeps it running though its index shows nobody.
WANTED = timedelta(seconds=10)
ACCOUNTS_AT_ONCE = 8
# What one account's reads of a tick may take, retries included.
READ_BUDGET_S = 3.0


class PumpMessage(CamelModel):
    owner: str


@dataclass
class PumpControl:
    """Starts a pump when none runs."""

    connections: ConnectionsRepository
    sqs: SQSClient
    queue_url: str
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def ensure_running(self) -> None:
        for _ in range(3):  # the lease may be given up between the two calls
            owner, now = new_ulid(), self.clock()
            if self.connections.claim_pump(owner, now, now + LEASE):
                self.hand_on(owner)
                return
            if self.connections.want_pump(now):
                return

    def hand_on(self, owner: str) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=PumpMessage(owner=owner).model_dump_json())


def get_pump_control(connections: ConnectionsRepository) -> PumpControl:
    queue_url = get_settings().price_pump_queue_url
    if not queue_url:
        raise RuntimeError("PRICE_PUMP_QUEUE_URL is not configured")
    return PumpControl(connections, sqs_client(), queue_url)


@dataclass
class _Quote:
    bid: Decimal | None
    ask: Decimal | None
    profit: Decimal | None


@dataclass
class PricePump:
    connections: ConnectionsRepository
    accounts: AccountsRepository
    access: MetaApiAccess
    push: Push
    control: PumpControl
    run_s: float
    tick_s: float = TICK_S
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    sleep: Callable[[float], None] = time.sleep
    _sent: dict[tuple[str, str], _Quote] = field(default_factory=dict)
    _accounts: dict[str, Account] = field(default_factory=dict)
    # Accounts MetaApi rate-limited, left alone until then (monotonic time): the pump must not
    # spend the budget trades on the same account need.
    _resting: dict[str, float] = field(default_factory=dict)

    def run(self, handed: str) -> int:
        """Take the lease over from the run that handed it on (`handed`) and pump until nobody
        watches (or another pump holds the lease), handing on after `run_s`; answers how many
        ticks it ran."""
        started, ticks = time.monotonic(), 0
        owner, previous = new_ulid(), handed
        while True:
            began, now = time.monotonic(), self.clock()
            if not self.connections.claim_pump(owner, now, now + LEASE, previous=previous):
                return ticks
            previous = owner
            watchers = self.connections.watching()
            if not watchers and self.connections.release_pump(owner, now - WANTED):
                logger.info("price pump stopped: nobody watches", extra={"ticks": ticks})
                return ticks
            self._tick(watchers)
            ticks += 1
            if time.monotonic() - started >= self.run_s:
                self.control.hand_on(owner)
                return ticks
            self.sleep(max(0.0, self.tick_s - (time.monotonic() - began)))

    def _tick(self, watchers: list[Connection]) -> None:
        watched: defaultdict[tuple[str, str], set[str]] = defaultdict(set)  # (user, account) -> symbols
        for connection in watchers:
            for account_id, symbols in connection.subscriptions.items():
                watched[(connection.user_id, account_id)].update(symbols)
        with ThreadPoolExecutor(max_workers=ACCOUNTS_AT_ONCE) as pool:
            read = list(pool.map(lambda key: self._read(key[0], key[1], watched[key]), watched))
        deliveries: list[tuple[str, Frame]] = []
        for (_, account_id), quotes in zip(watched, read, strict=True):
            for symbol, frame in quotes.items():
                deliveries += [(c.connection_id, frame) for c in watchers if c.watches(account_id, symbol)]
        for gone in self.push.send_all(deliveries):
            self.connections.disconnect(gone)

    def _read(self, user_id: str, account_id: str, symbols: set[str]) -> dict[str, Frame]:
        """The frames of this account's watched prices that moved (none when it cannot be read)."""
        if time.monotonic() < self._resting.get(account_id, 0.0):
            return {}
        try:
            account = self._account(user_id, account_id)
            # Side by side, within a budget of their own: a slow account delays a tick, never stalls it.
            client = self.access.for_account(account).with_budget(READ_BUDGET_S)
            remote = account.remote
            reads: list[Callable[[], Any]] = [
                partial(client.current_price, remote, symbol) for symbol in sorted(symbols)
            ]
            *prices, positions = together([*reads, partial(client.positions, remote)])
        except MetaApiRateLimited as limited:
            self._resting[account_id] = time.monotonic() + limited.retry_after_seconds
            logger.warning("prices not read: rate-limited", extra={"accountId": account_id})
            return {}
        except DomainError as error:
            logger.warning("prices not read", extra={"accountId": account_id, "errorCode": error.code})
            return {}
        except Exception:
            logger.exception("prices not read", extra={"accountId": account_id})
            return {}
        now = self.clock()
        frames = {}
        for price in prices:
            frame = self._frame_if_moved(account_id, price, positions, now)
            if frame is not None:
                frames[price.symbol] = frame
        return frames

    def _frame_if_moved(
        self, account_id: str, price: SymbolPrice, positions: list[Position], now: datetime
    ) -> Frame | None:
        held = [p.profit for p in positions if p.symbol == price.symbol and p.profit is not None]
        quote = _Quote(price.bid, price.ask, sum(held, Decimal(0)) if held else None)
        before = self._sent.get((account_id, price.symbol))
        if before == quote:
            return None
        self._sent[(account_id, price.symbol)] = quote
        # JSON numbers, as MetaApi sends them (a Decimal would travel as text).
        data: dict[str, Any] = {
            "symbol": price.symbol,
            "bid": float(price.bid),
            "ask": float(price.ask),
            "time": price.time.isoformat() if price.time else None,
        }
        if quote.profit is not None and (before is None or before.profit != quote.profit):
            data["profit"] = float(quote.profit)
        return Frame(type=FrameType.PRICE, account_id=account_id, time=now, data=data)

    def _account(self, user_id: str, account_id: str) -> Account:
        account = self._accounts.get(account_id)
        if account is None:
            account = self.accounts.get(user_id, account_id)
            self._accounts[account_id] = account
        return account

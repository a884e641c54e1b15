"""Takes one queued trade request to a final status, sending it to the broker at most once per
attempt and never a second time unless a reconciliation proved the first did not execute.

The queue layer acts on the answer: `Done` (delete the message), `RetrySoon` (keep it, visible
again after the wait) or `Parked` (delete it; the sweeper re-enqueues the request when due)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from mtcore.errors import TradeRefused
from mtcore.metaapi.errors import (
    MetaApiError,
    MetaApiNotConnected,
    MetaApiNotFound,
    MetaApiRateLimited,
    MetaApiTimeout,
    MetaApiTokenRefused,
    MetaApiUnavailable,
    MetaApiValidation,
)
from mtcore.metaapi.models import MetaApiTrade, TradeAction
from mtcore.metaapi.trade_codes import TradeOutcome
from mtcore.observability import logger
from mtcore.trading.broker_truth import ABSENT_AFTER, SENT, Absent, Found, find_at_broker, last_sent_at
from mtcore.trading.groups import children_of, outcome_of
from mtcore.trading.models import (
    OPENING,
    PARENTS,
    SENDABLE,
    SETTLED,
    BrokerAnswer,
    TradeKind,
    TradeRequest,
    TradeStatus,
    TrailingStopLoss,
)

if TYPE_CHECKING:
    from mtcore.metaapi.client import MetaApiClient
    from mtcore.metaapi.models import Position, TradeResult
    from mtcore.trading.repository import TradesRepository

_SUCCESS_STATUS = {10008: TradeStatus.PLACED, 10010: TradeStatus.PARTIAL}
# Reads that fail this way will not succeed by trying again: the request is refused unsent.
_REFUSED_READS = (MetaApiNotFound, MetaApiValidation, MetaApiTokenRefused)


@dataclass(frozen=True)
class ExecutorPolicy:
    settle_seconds: float = 2.0  # before looking for the outcome of an ambiguous send
    # A send found absent is looked for again until this long after it: brokers have been seen
    # to execute a trade well after answering that it timed out.
    absent_for_seconds: float = ABSENT_AFTER.total_seconds()
    recheck_seconds: float = 5.0
    max_attempts: int = 5  # sends of an entry (a market or pending order)
    short_wait_seconds: float = 5.0  # longer waits park the request instead of holding the queue
    # Deliveries of one message that may end in a short wait: later ones park the request (the
    # sweeper sends a new message when it is due), so no message nears the queue's
    # maxReceiveCount while its request still has time.
    max_short_retries: int = 10
    # A look at the broker that cannot tell what a send did is tried again later, each time with
    # a fresh time budget and twice the wait; after this many the trade is UNKNOWN, which sync
    # settles from broker truth.
    max_looks: int = 6
    # Exits (closes, changes, cancels) and pending orders do not expire: a retryable failure is
    # retried for this long after the request was accepted before it is given up.
    retry_for_seconds: float = 3600.0
    max_retry_wait_seconds: float = 60.0
    # Each phase of a delivery gets its own MetaApi time budget, so a slow send never leaves the
    # look at its outcome without time.
    read_budget_seconds: float = 6.0
    send_budget_seconds: float = 14.0  # MetaApi's connect (3 s) and read (10 s) timeouts, and a margin
    look_budget_seconds: float = 8.0

    def delivery_seconds(self) -> float:
        """The longest one delivery can spend waiting on MetaApi: the reads before a send, the
        send, then the fill read or a settle and one look, then the refresh of the store."""
        after_send = max(self.read_budget_seconds, self.settle_seconds + self.look_budget_seconds)
        return self.read_budget_seconds + self.send_budget_seconds + after_send + self.read_budget_seconds


# An entry judged again right before its send: the changes to send it with (its volume, when it
# is sized at execution), or why it is not sent.
Recheck = Callable[["TradeRequest", "MetaApiClient"], "TradeRefused | dict[str, Any]"]


@dataclass(frozen=True)
class Resolved:
    """What a signal became on its account: the requests to run (in order), and what the signal
    itself records (the broker's symbol, what it would send)."""

    children: list[TradeRequest]
    changes: dict[str, Any]
    note: str


@dataclass(frozen=True)
class Unresolved:
    """A signal that ends here: refused, ignored, expired, or (shadow mode) checked and not sent."""

    status: TradeStatus
    code: str | None  # the rule or reason by name (SIGNAL_IGNORED), when there is one
    reason: str
    changes: dict[str, Any] | None = None


class SignalResolver(Protocol):
    def resolve(self, request: TradeRequest, client: MetaApiClient) -> Resolved | Unresolved:
        """The signal's children, built from the broker's state now (reads through `client`)."""
        ...

    def record(self, parent: TradeRequest, children: list[TradeRequest]) -> None:
        """Write and queue the children, then the parent again behind them."""
        ...

    def entry_due(self, parent: TradeRequest) -> bool:
        """An entry that waited for the opposite side's closes, not made yet."""
        ...

    def outcome(self, parent: TradeRequest, children: list[TradeRequest | None]) -> Unresolved:
        """The signal's final status from its settled children."""
        ...


@dataclass(frozen=True)
class Done:
    request: TradeRequest
    # The account's positions as read right after a market order executed, when they were.
    positions: list[Position] | None = None
    positions_read_at: datetime | None = None


@dataclass(frozen=True)
class RetrySoon:
    request: TradeRequest
    seconds: float


@dataclass(frozen=True)
class Parked:
    request: TradeRequest
    until: datetime


Step = Done | RetrySoon | Parked


@dataclass
class Executor:
    trades: TradesRepository
    client: MetaApiClient
    remote: tuple[str, str | None]
    # What may have changed since an entry was accepted (a session closed, the spread widened, a
    # risk limit reached): a reason not to send it, or None. It reads through the client given.
    recheck: Recheck | None = None
    # Turns a webhook signal into the requests it asks for; without one a signal is not handled.
    signals: SignalResolver | None = None
    policy: ExecutorPolicy = ExecutorPolicy()
    deliveries: int = 1  # how often the queue has delivered this message, this time included
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], None] = time.sleep

    def run(self, account_id: str, request_id: str) -> Step:
        request = self.trades.get(account_id, request_id)
        if request.status in SETTLED:
            return Done(request)
        if request.kind is TradeKind.SIGNAL and request.children is None:
            return self._resolve(request)
        if request.kind in PARENTS:
            return self._settle_group(request)
        now = self.clock()
        if request.not_before and now < request.not_before:
            return self._wait(request, (request.not_before - now).total_seconds())
        if request.status is TradeStatus.SENDING:
            # A redelivery after a crash or a lost answer, or a look that is due: the send may
            # have executed.
            return self._reconcile(request, "found in SENDING on delivery")
        if request.expires_at and now >= request.expires_at:
            return self._finish(request, TradeStatus.EXPIRED, "not sent: it expired before it could be sent")
        if request.kind in OPENING and request.attempts >= self.policy.max_attempts:
            return self._finish(
                request, TradeStatus.REJECTED, f"not sent: gave up after {request.attempts} attempts"
            )
        reads = self.client.with_budget(self.policy.read_budget_seconds)
        try:
            rechecked = self.recheck(request, reads) if self.recheck and request.kind in OPENING else {}
            if isinstance(rechecked, TradeRefused):
                return self._not_sent(request, rechecked.code, rechecked.message)
            now_at_broker, refusal = self._as_it_is_now(request, reads)
        except MetaApiError as error:
            return self._not_read(request, error)
        if refusal:
            return self._finish(request, TradeStatus.REJECTED, f"not sent: {refusal}")
        sending = self.trades.transition(
            request,
            TradeStatus.SENDING,
            expected=SENDABLE,
            at=now,
            note=SENT,
            count_attempt=True,
            # Looks count per send: a new send gets the full number again.
            changes={**rechecked, **now_at_broker, "looks": 0},
        )
        return self._send(sending)

    def _not_read(self, request: TradeRequest, error: MetaApiError) -> Step:
        """The broker's state could not be read before a send: refused for good when reading will
        not succeed by trying again, else tried again after MetaApi's wait or a short one."""
        if isinstance(error, _REFUSED_READS):
            return self._finish(
                request,
                TradeStatus.REJECTED,
                f"not sent: MetaApi refused to read the account ({error.message})",
            )
        logger.warning("broker state not read before a send", extra={"errorCode": error.code})
        wait = (
            error.retry_after_seconds
            if isinstance(error, MetaApiRateLimited)
            else self.policy.short_wait_seconds
        )
        return self._retry(request, wait, f"the broker's state could not be read ({error.message})")

    def _as_it_is_now(self, request: TradeRequest, reads: MetaApiClient) -> tuple[dict[str, Any], str | None]:
        """Closes and changes are sent against the broker's state right before the send: the
        volumes a close is later judged against, and the levels a change leaves as they are
        (a change queued behind another must not undo it). Answers the request's changes, or
        why it is not sent."""
        if request.kind in (TradeKind.CLOSE, TradeKind.CLOSE_BY, TradeKind.MODIFY_POSITION):
            # The terminal's own state: a stale list must not refuse a close or change.
            live = {position.id: position for position in reads.positions(self.remote, refresh=True)}
            position = live.get(request.position_id or "")
            if position is None:
                return {}, f"position {request.position_id} is no longer open"
            if request.kind is TradeKind.CLOSE:
                if request.volume is not None and request.volume >= position.volume:
                    return (
                        {},
                        f"position {position.id} now holds only {position.volume} lots",
                    )
                return {"position_volume": position.volume}, None
            if request.kind is TradeKind.CLOSE_BY:
                opposite = live.get(request.close_by_position_id or "")
                if opposite is None:
                    return {}, f"position {request.close_by_position_id} is no longer open"
                return {"position_volume": position.volume, "close_by_volume": opposite.volume}, None
            return {
                "stop_loss": _target(request.stop_loss, position.stop_loss),
                "take_profit": _target(request.take_profit, position.take_profit),
                "trailing_stop_loss": request.trailing_stop_loss or _trailing(position.trailing_stop_loss),
            }, None
        if request.kind is TradeKind.MODIFY_ORDER:
            order = next(
                (o for o in reads.orders(self.remote, refresh=True) if o.id == request.order_id), None
            )
            if order is None:
                return {}, f"order {request.order_id} is no longer pending"
            return {
                "open_price": request.open_price or order.open_price,
                "stop_limit_price": request.stop_limit_price or order.stop_limit_price,
                "stop_loss": _target(request.stop_loss, order.stop_loss),
                "take_profit": _target(request.take_profit, order.take_profit),
            }, None
        return {}, None

    # Sending --------------------------------------------------------------------------------

    def _send(self, request: TradeRequest) -> Step:
        try:
            sender = self.client.with_budget(self.policy.send_budget_seconds)
            result = sender.trade(self.remote, _metaapi_trade(request))
        except (MetaApiTimeout, MetaApiUnavailable) as error:
            return self._reconcile(request, f"no clear answer from MetaApi ({error.message})")
        except MetaApiRateLimited as error:
            return self._retry(request, error.retry_after_seconds, "MetaApi's rate limit")
        except MetaApiNotConnected as error:
            return self._retry(request, 10.0, f"the terminal is not connected ({error.message})")
        except MetaApiError as error:
            # MetaApi refused the request itself (validation, token, unknown account): not sent on.
            return self._finish(
                request, TradeStatus.REJECTED, f"MetaApi refused the request: {error.message}"
            )
        broker = _broker_answer(result)
        outcome = result.outcome
        if outcome is TradeOutcome.SUCCESS:
            status = _SUCCESS_STATUS.get(result.numeric_code or 0, TradeStatus.EXECUTED)
            if request.kind is TradeKind.PLACE:
                status = TradeStatus.PLACED  # MT4 answers 0 and some MT5 brokers 10009 for a placed order
            if request.kind is TradeKind.OPEN and status is not TradeStatus.PLACED:
                return self._filled(request, status, broker)
            return self._finish(request, status, f"broker answered {result.string_code}", broker=broker)
        reason = f"{result.string_code or result.numeric_code}: {result.message or 'no message'}"
        if outcome is TradeOutcome.FINAL:
            return self._finish(request, TradeStatus.REJECTED, f"broker refused it ({reason})", broker=broker)
        if outcome is TradeOutcome.RETRYABLE:
            wait = min(self.policy.max_retry_wait_seconds, 2.0**request.attempts)
            return self._retry(request, wait, f"broker asked to retry ({reason})")
        return self._reconcile(request, f"outcome unknown ({reason})")

    def _filled(self, request: TradeRequest, status: TradeStatus, broker: BrokerAnswer) -> Done:
        """A market order's fill price is its new position's open price: read once, and kept for
        refreshing the stored positions too."""
        read_at = self.clock()
        try:
            positions = self.client.with_budget(self.policy.read_budget_seconds).positions(self.remote)
        except MetaApiError as error:
            logger.warning("fill price not read", extra={"tradeId": request.id, "errorCode": error.code})
            return self._finish(request, status, f"broker answered {broker.string_code}", broker=broker)
        opened = next(
            (p for p in positions if p.id == broker.position_id and p.client_id == request.client_id), None
        )
        # On a netting account the position may hold more than this order: its price is an average.
        price = opened.open_price if opened is not None and opened.volume == request.volume else None
        done = self._finish(
            request, status, f"broker answered {broker.string_code}", broker=broker, price=price
        )
        return Done(done.request, positions, read_at)

    def _retry(self, request: TradeRequest, wait: float, reason: str) -> Step:
        """Try again after `wait`: an entry within its attempts and before it expires; an exit
        (which never expires) within the retry window after it was accepted."""
        now = self.clock()
        if request.kind in OPENING and request.attempts >= self.policy.max_attempts:
            return self._finish(
                request, TradeStatus.REJECTED, f"not executed after {request.attempts} attempts: {reason}"
            )
        until = now + timedelta(seconds=wait)
        if request.expires_at and until >= request.expires_at:
            return self._finish(request, TradeStatus.EXPIRED, f"not executed, and too old to retry: {reason}")
        window = self.policy.retry_for_seconds
        if until >= request.created_at + timedelta(seconds=window):
            return self._finish(
                request,
                TradeStatus.REJECTED,
                f"not executed within {_duration(window)} of being accepted: {reason}",
            )
        waiting = self.trades.transition(
            request,
            TradeStatus.WAITING,
            expected={request.status},
            at=now,
            note=f"retry in {wait:.0f} s: {reason}",
            changes={"not_before": until},
        )
        return self._wait(waiting, wait)

    def _wait(self, request: TradeRequest, seconds: float) -> Step:
        """Keep the message for a short wait, else let it go: the request carries its `notBefore`,
        when the sweeper sends it again."""
        if seconds <= self.policy.short_wait_seconds and self.deliveries < self.policy.max_short_retries:
            return RetrySoon(request, max(0.0, seconds))
        return Parked(request, request.not_before or self.clock() + timedelta(seconds=seconds))

    # A parent ---------------------------------------------------------------------------------

    def _resolve(self, request: TradeRequest) -> Step:
        """A signal (or an entry waiting for its opposite side's closes) resolved into the
        requests it asks for: claimed on the signal first, so a redelivery never makes them twice,
        then written and queued ahead of the signal, which then settles from them."""
        if self.signals is None:
            raise RuntimeError("this executor takes no signals")
        try:
            resolution = self.signals.resolve(
                request, self.client.with_budget(self.policy.read_budget_seconds)
            )
        except MetaApiError as error:
            return self._not_read(request, error)
        if isinstance(resolution, Unresolved):
            return self._finish(
                request,
                resolution.status,
                resolution.reason,
                code=resolution.code,
                changes=resolution.changes,
            )
        now = self.clock()
        until = now + timedelta(seconds=self.policy.short_wait_seconds)
        known = list(request.children or [])
        claimed = self.trades.transition(
            request,
            TradeStatus.WAITING,
            expected=SENDABLE,
            at=now,
            note=resolution.note,
            changes={
                **resolution.changes,
                "children": [*known, *(child.id for child in resolution.children)],
                "not_before": until,
            },
        )
        self.signals.record(claimed, resolution.children)
        return Parked(claimed, until)

    def _settle_group(self, request: TradeRequest) -> Step:
        """Queued after its children in the account's group, a parent usually finds them settled.
        If one is not (parked, or sent again behind the parent), the parent is parked: waiting in
        the group would hold back the very child it waits for."""
        children = children_of(request, self.trades)
        if request.kind is TradeKind.SIGNAL and self.signals is not None:
            settled = all(child is None or child.status in SETTLED for child in children)
            if settled and self.signals.entry_due(request):
                return self._resolve(request)  # the opposite side's closes are done: now the entry
            ended = self.signals.outcome(request, children) if settled else None
            if ended is not None:
                return self._finish(
                    request, ended.status, ended.reason, code=ended.code, changes=ended.changes
                )
        else:
            outcome = outcome_of(children)
            if outcome is not None:
                return self._finish(request, outcome[0], outcome[1])
        now = self.clock()
        due = [child.not_before for child in children if child is not None and child.not_before]
        until = max([*due, now]) + timedelta(seconds=self.policy.short_wait_seconds)
        parked = self.trades.transition(
            request,
            TradeStatus.WAITING,
            expected=SENDABLE,
            at=now,
            note="waiting for its positions to close",
            changes={"not_before": until},
        )
        return Parked(parked, until)

    # Reconciling ----------------------------------------------------------------------------

    def _reconcile(self, request: TradeRequest, reason: str) -> Step:
        self.sleep(self.policy.settle_seconds)
        looking = self.client.with_budget(self.policy.look_budget_seconds)
        finding = find_at_broker(looking, self.remote, request, self.clock())
        logger.info("trade reconciled", extra={"tradeId": request.id, "finding": type(finding).__name__})
        if isinstance(finding, Found):
            return self._finish(
                request,
                finding.status,
                f"{reason}; {finding.note}",
                broker=finding.broker,
                price=finding.price,
            )
        now = self.clock()
        if isinstance(finding, Absent):
            if (now - last_sent_at(request)).total_seconds() < self.policy.absent_for_seconds:
                still = self.trades.transition(
                    request,
                    TradeStatus.SENDING,
                    expected={TradeStatus.SENDING},
                    at=now,
                    note=f"{reason}; {finding.note} yet; looking again",
                    changes={"not_before": now + timedelta(seconds=self.policy.recheck_seconds)},
                )
                return self._wait(still, self.policy.recheck_seconds)
            # Absent long enough to be sure it did not execute: it may be sent again.
            return self._retry(request, 0.0, f"{reason}; {finding.note}")
        looks = request.looks + 1
        if looks >= self.policy.max_looks:
            return self._finish(
                request,
                TradeStatus.UNKNOWN,
                f"{reason}; {finding.note}, {looks} times; "
                "the next full sync settles it from the broker's records",
            )
        wait = self.policy.recheck_seconds * 2 ** (looks - 1)
        later = self.trades.transition(
            request,
            TradeStatus.SENDING,
            expected={TradeStatus.SENDING},
            at=now,
            note=f"{reason}; {finding.note}; looking again in {wait:.0f} s",
            changes={"looks": looks, "not_before": now + timedelta(seconds=wait)},
        )
        return self._wait(later, wait)

    def _not_sent(self, request: TradeRequest, code: str, message: str) -> Done:
        """Refused by a rule before any send: `REJECTED` with the rule's code."""
        return self._finish(request, TradeStatus.REJECTED, f"not sent: {code}: {message}", code=code)

    def _finish(
        self,
        request: TradeRequest,
        status: TradeStatus,
        reason: str,
        *,
        broker: BrokerAnswer | None = None,
        price: Decimal | None = None,
        code: str | None = None,
        changes: dict[str, Any] | None = None,
    ) -> Done:
        changes = {**(changes or {}), "reason": reason}
        if code is not None:
            changes["code"] = code
        if broker is not None:
            changes["broker"] = broker
        if price is not None:
            changes["executed_price"] = price
            slippage = _slippage_pips(request, price)
            if slippage is not None:
                changes["slippage_pips"] = slippage
        expected = {TradeStatus.SENDING} if request.status is TradeStatus.SENDING else set(SENDABLE)
        final = self.trades.transition(
            request, status, expected=expected, at=self.clock(), note=reason, changes=changes
        )
        logger.info("trade settled", extra={"tradeId": request.id, "status": status.value})
        return Done(final)


def _duration(seconds: float) -> str:
    whole = round(seconds)
    if whole % 3600 == 0:
        return f"{whole // 3600} h"
    return f"{whole // 60} min" if whole % 60 == 0 else f"{whole} s"


def _target(sent: Decimal | None, current: Decimal | None) -> Decimal:
    """A level not asked to change keeps its current value; 0 removes it, as in MetaTrader."""
    return sent if sent is not None else (current or Decimal(0))


def _trailing(current: dict[str, Any] | None) -> TrailingStopLoss | None:
    if not current:
        return None
    try:
        return TrailingStopLoss.model_validate(current)
    except ValueError:
        return None  # a shape we do not know: leave it to the broker rather than resend it wrong


def _slippage_pips(request: TradeRequest, executed: Decimal) -> Decimal | None:
    """Positive when the fill was worse than the quote the order was accepted at."""
    if request.kind is not TradeKind.OPEN or request.requested_price is None or not request.pip_size:
        return None
    worse = (
        executed - request.requested_price
        if request.action is TradeAction.BUY
        else request.requested_price - executed
    )
    return (worse / request.pip_size).quantize(Decimal("0.1"))


def _metaapi_trade(request: TradeRequest) -> MetaApiTrade:
    """The `POST /trade` body: each kind sends its own fields, and only those."""
    opening = request.kind in OPENING
    return MetaApiTrade(
        action_type=request.action,
        symbol=request.symbol if opening else None,
        volume=request.volume if opening or request.action is TradeAction.POSITION_PARTIAL else None,
        open_price=request.open_price,
        stop_limit_price=request.stop_limit_price,
        stop_loss=request.stop_loss,
        take_profit=request.take_profit,
        order_id=request.order_id,
        position_id=request.position_id,
        close_by_position_id=request.close_by_position_id,
        comment=request.comment,
        client_id=request.client_id,
        magic=request.magic,
        slippage=request.max_slippage_points,
        filling_modes=request.filling_modes,
        expiration=request.expiration.model_dump(mode="json", exclude_none=True)
        if request.expiration
        else None,
        trailing_stop_loss=request.trailing_stop_loss.to_metaapi() if request.trailing_stop_loss else None,
    )


def _broker_answer(result: TradeResult) -> BrokerAnswer:
    return BrokerAnswer(
        numeric_code=result.numeric_code,
        string_code=result.string_code,
        message=result.message,
        order_id=result.order_id,
        position_id=None if result.position_id is None else str(result.position_id),
    )

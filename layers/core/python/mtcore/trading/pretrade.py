"""Pre-trade checks of each action against the symbol's rules, from per-container cached
specifications and prices, before anything is queued. Relative levels and the account's
buffers are turned into prices here, so what is checked is exactly what is sent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from mtcore.errors import TradeRefused
from mtcore.metaapi.errors import MetaApiNotFound
from mtcore.metaapi.models import TradeAction
from mtcore.risk import FixedSizing, MarginPercentSizing, Sized, SizingMarket, size
from mtcore.trading import checks
from mtcore.trading.bodies import Levels, given
from mtcore.trading.checks import BUYS, MARKET, Distance

if TYPE_CHECKING:
    from mtcore.accounts import Account
    from mtcore.market import MarketCache
    from mtcore.metaapi.client import MetaApiClient
    from mtcore.metaapi.models import AccountInformation, Order, Position, SymbolPrice, SymbolSpecification
    from mtcore.risk import Sizing
    from mtcore.trading.bodies import NewOrder, OrderChanges, PositionChanges
    from mtcore.trading.models import TradeRequest

HEDGING_MODES = frozenset({"ACCOUNT_MARGIN_MODE_RETAIL_HEDGING"})
ValueT = TypeVar("ValueT")


@dataclass(frozen=True)
class CheckedOrder:
    volume: Decimal
    stop_loss: Decimal | None
    take_profit: Decimal | None
    requested_price: Decimal | None  # market orders: the quote the order was accepted at
    pip_size: Decimal
    entry: Decimal  # the price the order fills at, as far as can be told now
    market: SizingMarket
    risk_amount: Decimal | None = None  # lost at the stop loss, in the account's currency
    risk_percent: Decimal | None = None


@dataclass(frozen=True)
class Verdict:
    check: str
    passed: bool
    code: str | None = None
    message: str | None = None


@dataclass
class Verdicts:
    """The checks of one order: an order is refused at the first that fails, or (for a preview)
    every one is recorded and the order carries on as far as it can."""

    collect: bool = False
    results: list[Verdict] = field(default_factory=list)

    def run(self, check: str, judge: Callable[[], ValueT], otherwise: ValueT) -> ValueT:
        try:
            value = judge()
        except TradeRefused as refusal:
            if not self.collect:
                raise
            self.results.append(Verdict(check, False, refusal.code, refusal.message))
            return otherwise
        self.results.append(Verdict(check, True))
        return value


@dataclass(frozen=True)
class Targets:
    """What a modify sets: the broker is later checked against exactly these."""

    stop_loss: Decimal | None
    take_profit: Decimal | None
    open_price: Decimal | None = None
    stop_limit_price: Decimal | None = None


@dataclass
class PreTrade:
    client: MetaApiClient
    account: Account
    cache: MarketCache
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    @property
    def remote(self) -> tuple[str, str | None]:
        return self.account.remote

    def _market(self, symbol: str) -> tuple[SymbolSpecification, SymbolPrice]:
        return (
            self.cache.specification(self.client, self.remote, symbol),
            self.cache.price(self.client, self.remote, symbol),
        )

    def _broker_now(self) -> datetime | None:
        return self.cache.broker_now(self.client, self.remote)

    # New orders -------------------------------------------------------------------------------

    def new_order(self, order: NewOrder, verdicts: Verdicts | None = None) -> CheckedOrder:
        """The order checked against the symbol's rules, its levels as prices and its volume as
        sized; refused at the first rule it breaks unless `verdicts` collects them all."""
        verdicts = verdicts or Verdicts()
        action, is_buy, is_market = order.action_type, order.action_type in BUYS, order.action_type in MARKET
        self.cache.warm(self.client, self.remote, order.symbol, market=is_market)
        spec, price = self._market(order.symbol)
        now = self.clock()
        has_stop_loss = order.stop_loss is not None or order.trailing_stop_loss is not None
        verdicts.run("tradeMode", lambda: checks.trade_mode_allows(spec, is_buy=is_buy, opening=True), None)
        verdicts.run(
            "orderTypes",
            lambda: checks.order_types_allowed(
                spec, action, stop_loss=has_stop_loss, take_profit=order.take_profit is not None
            ),
            None,
        )
        filling: list[str] = list(order.filling_modes or [])
        verdicts.run(
            "fillingModes", lambda: checks.filling_allowed(spec, filling, pending=not is_market), None
        )
        entry = price.ask if is_buy else price.bid
        if is_market:
            verdicts.run("sessions", lambda: checks.market_open(spec, self._broker_now()), None)
            spread = self.account.max_spread_points
            verdicts.run("spread", lambda: checks.spread_within(spec, price, spread), None)
        else:
            expiration = order.expiration
            if expiration is not None:
                verdicts.run(
                    "expiration",
                    lambda: checks.expiration_allowed(spec, expiration.type, expiration.time, now),
                    None,
                )
            entry = order.stop_limit_price or order.open_price or entry
        base = (price.ask if is_buy else price.bid) if order.stop_price_base == "CURRENT_PRICE" else entry
        no_levels: tuple[Decimal | None, Decimal | None] = (None, None)
        stop_loss, take_profit = verdicts.run(
            "levels", lambda: self._levels(spec, order, base=base, is_buy=is_buy), no_levels
        )
        if is_market:
            # A market order's levels are judged against the price it would close at.
            close, close_name = (price.bid, "the bid") if is_buy else (price.ask, "the ask")
            distances = checks.stops(
                is_buy=is_buy,
                reference=close,
                reference_name=close_name,
                stop_loss=stop_loss,
                take_profit=take_profit,
            )
        else:
            assert order.open_price is not None  # NewOrder requires it for pending types
            distances = checks.pending_prices(action, price, order.open_price, order.stop_limit_price)
            entry_name = "the stop limit price" if order.stop_limit_price else "the open price"
            distances += checks.stops(
                is_buy=is_buy,
                reference=entry,
                reference_name=entry_name,
                stop_loss=stop_loss,
                take_profit=take_profit,
            )
        for distance in distances:
            verdicts.run("stopsLevel", partial(checks.far_enough, spec, distance), None)
        market = self._sizing_market(spec, price, order.sizing, is_buy=is_buy)
        smallest = spec.min_volume or Decimal("0.01")
        sized = verdicts.run(
            "sizing",
            lambda: size(
                order.sizing or FixedSizing(mode="fixed", volume=order.volume or smallest),
                market,
                entry=entry,
                stop_loss=stop_loss,
            ),
            Sized(volume=smallest),
        )
        field_name = "body.volume" if order.volume is not None else "body.sizing"
        volume = verdicts.run(
            "volume", lambda: checks.volume_within(spec, sized.volume, field_name), sized.volume
        )
        if is_market:
            verdicts.run("margin", lambda: self._margin(spec.symbol, action, volume, entry), None)
        return CheckedOrder(
            volume=volume,
            stop_loss=stop_loss,
            take_profit=take_profit,
            requested_price=entry if is_market else None,
            pip_size=checks.pip_of(spec),
            entry=entry,
            market=market,
            risk_amount=sized.risk_amount,
            risk_percent=sized.risk_percent,
        )

    def resize(self, request: TradeRequest, symbol: str, sizing: Sizing) -> tuple[Decimal, Sized]:
        """An entry (of `symbol`, sized by `sizing`) sized again right before its send, with the
        account's money read now and the price from the cache; its stop loss is the price it was
        accepted with."""
        spec, price = self._market(symbol)
        is_buy = request.action in BUYS
        entry = request.stop_limit_price or request.open_price or (price.ask if is_buy else price.bid)
        info = self.client.account_information(self.remote)
        market = self._sizing_market(spec, price, sizing, is_buy=is_buy, info=info)
        sized = size(sizing, market, entry=entry, stop_loss=request.stop_loss)
        return checks.volume_within(spec, sized.volume, "body.sizing"), sized

    def _sizing_market(
        self,
        spec: SymbolSpecification,
        price: SymbolPrice,
        sizing: Sizing | None,
        *,
        is_buy: bool,
        info: AccountInformation | None = None,
    ) -> SizingMarket:
        """What sizing reads, from the cache unless given: the account's money, a conversion rate
        when the quote has no tick values, the margin of a lot when margin is what it sizes by."""
        info = info or self.cache.account_information(self.client, self.remote)
        conversion = None
        profit_currency = (spec.model_extra or {}).get("profitCurrency")
        if (
            not price.loss_tick_value
            and profit_currency
            and info.currency
            and profit_currency != info.currency
        ):
            conversion = self._rate(str(profit_currency), info.currency)
        margin = None
        if isinstance(sizing, MarginPercentSizing):
            action = TradeAction.BUY if is_buy else TradeAction.SELL
            entry = price.ask if is_buy else price.bid
            margin = self.cache.margin_per_lot(
                self.client, self.remote, spec.symbol, action, Decimal(1), entry
            )
        return SizingMarket(
            spec=spec, price=price, account=info, conversion=conversion, margin_per_lot=margin
        )

    def _rate(self, source: str, target: str) -> Decimal | None:
        """One unit of `source` in `target`, from the pair the broker quotes, if it quotes one."""
        for pair, inverse in ((source + target, False), (target + source, True)):
            try:
                quote = self.cache.price(self.client, self.remote, pair)
            except MetaApiNotFound:
                continue
            mid = (quote.bid + quote.ask) / 2
            return 1 / mid if inverse else mid
        return None

    def _levels(
        self, spec: SymbolSpecification, body: Levels, *, base: Decimal, is_buy: bool
    ) -> tuple[Decimal | None, Decimal | None]:
        resolved = []
        for value, units, is_stop_loss, pips in (
            (body.stop_loss, body.stop_loss_units, True, self.account.stop_loss_buffer_pips),
            (body.take_profit, body.take_profit_units, False, self.account.take_profit_buffer_pips),
        ):
            price = None
            if value is not None:
                price = checks.level(
                    spec, value=value, units=units, base=base, is_buy=is_buy, is_stop_loss=is_stop_loss
                )
                price = checks.buffered(spec, price, pips=pips, is_buy=is_buy, is_stop_loss=is_stop_loss)
                price = checks.positive_level(price, is_stop_loss=is_stop_loss) if price is not None else None
            resolved.append(price)
        return resolved[0], resolved[1]

    def _margin(self, symbol: str, action: str, volume: Decimal, price: Decimal) -> None:
        """Hedging accounts only: on a netting account an order may reduce a position and need
        no margin at all, which only the broker can tell."""
        if self.nets_positions():
            return
        info = self.cache.account_information(self.client, self.remote)
        per_lot = self.cache.margin_per_lot(self.client, self.remote, symbol, action, volume, price)
        needed = None if per_lot is None else per_lot * volume
        checks.margin_within(needed, info.free_margin, info.currency)

    # Positions --------------------------------------------------------------------------------

    def position_change(self, position: Position, changes: PositionChanges) -> Targets:
        spec, price = self._market(position.symbol)
        is_buy = position.type == "POSITION_TYPE_BUY"
        checks.trade_mode_allows(spec, is_buy=None, opening=False)
        checks.market_open(spec, self._broker_now())
        close, close_name = (price.bid, "the bid") if is_buy else (price.ask, "the ask")
        base = close if changes.stop_price_base == "CURRENT_PRICE" else position.open_price
        new_stop_loss, new_take_profit = self._levels(spec, changes, base=base, is_buy=is_buy)
        stop_loss = new_stop_loss if given(changes, "stop_loss") else position.stop_loss
        take_profit = new_take_profit if given(changes, "take_profit") else position.take_profit
        if given(changes, "stop_loss") or changes.trailing_stop_loss is not None:
            checks.order_type_allowed(spec, "SYMBOL_ORDER_SL", "body.stopLoss", "stop loss orders")
        if given(changes, "take_profit"):
            checks.order_type_allowed(spec, "SYMBOL_ORDER_TP", "body.takeProfit", "take profit orders")
        # A level about to trigger may not be moved (freezeLevel), and a new one must keep its distance.
        for name, field_name, before, after in (
            ("stop loss", "body.stopLoss", position.stop_loss, stop_loss),
            ("take profit", "body.takeProfit", position.take_profit, take_profit),
        ):
            if before is not None and after != before:
                checks.outside_freeze(spec, field_name, f"the current {name}", before, close)
        changed_stop_loss = stop_loss if stop_loss != position.stop_loss else None
        changed_take_profit = take_profit if take_profit != position.take_profit else None
        for distance in checks.stops(
            is_buy=is_buy,
            reference=close,
            reference_name=close_name,
            stop_loss=changed_stop_loss,
            take_profit=changed_take_profit,
        ):
            checks.far_enough(spec, distance)
        return Targets(stop_loss=stop_loss, take_profit=take_profit)

    def close(self, position: Position, volume: Decimal | None) -> Decimal | None:
        """The volume to close (rounded down to the step), or None for the whole position."""
        spec = self.cache.specification(self.client, self.remote, position.symbol)
        checks.trade_mode_allows(spec, is_buy=None, opening=False)
        checks.market_open(spec, self._broker_now())
        if volume is None or volume >= position.volume:
            if volume is not None and volume > position.volume:
                raise TradeRefused(
                    "VOLUME_TOO_LARGE",
                    "query.volume",
                    f"{volume} lots is more than the position's {position.volume} lots",
                    limit=position.volume,
                    value=volume,
                )
            return None
        adjusted = checks.volume_within(spec, volume, "query.volume")
        return None if adjusted >= position.volume else adjusted

    def nets_positions(self) -> bool:
        """Whether the account holds one position per symbol (MT5 netting; MT4 always hedges)."""
        info = self.cache.account_information(self.client, self.remote)
        mode = info.margin_mode or self.account.margin_mode
        return mode not in HEDGING_MODES and info.platform != "mt4"

    def hedging_required(self) -> None:
        """A netting account holds one position per symbol: there is never an opposite one."""
        if self.nets_positions():
            info = self.cache.account_information(self.client, self.remote)
            raise TradeRefused(
                "NETTING_ACCOUNT",
                "path.positionId",
                "close-by needs a hedging account; this account nets positions per symbol, "
                "so close the position instead",
                limit="ACCOUNT_MARGIN_MODE_RETAIL_HEDGING",
                value=info.margin_mode or self.account.margin_mode,
            )

    def close_by(self, position: Position, opposite: Position) -> None:
        if opposite.symbol != position.symbol or opposite.type == position.type:
            raise TradeRefused(
                "NOT_OPPOSITE",
                "body.closeByPositionId",
                f"position {opposite.id} ({opposite.type} {opposite.symbol}) is not opposite to "
                f"position {position.id} ({position.type} {position.symbol})",
                value=opposite.id,
            )
        spec = self.cache.specification(self.client, self.remote, position.symbol)
        checks.trade_mode_allows(spec, is_buy=None, opening=False)
        checks.order_type_allowed(spec, "SYMBOL_ORDER_CLOSEBY", "path.positionId", "close-by")
        checks.market_open(spec, self._broker_now())

    # Pending orders ---------------------------------------------------------------------------

    def order_change(self, pending: Order, changes: OrderChanges) -> Targets:
        spec, price = self._market(pending.symbol)
        now = self.clock()
        action = _order_action(pending.type)
        is_buy = action in BUYS
        checks.trade_mode_allows(spec, is_buy=None, opening=False)
        checks.market_open(spec, self._broker_now())
        market = price.ask if is_buy else price.bid
        checks.outside_freeze(spec, "path.orderId", "the order's open price", pending.open_price, market)
        open_price = (
            changes.open_price if given(changes, "open_price") and changes.open_price else pending.open_price
        )
        stop_limit_price = pending.stop_limit_price
        if given(changes, "stop_limit_price") and changes.stop_limit_price is not None:
            if pending.stop_limit_price is None:
                raise TradeRefused(
                    "NOT_A_STOP_LIMIT", "body.stopLimitPrice", f"order {pending.id} is not a stop-limit order"
                )
            stop_limit_price = changes.stop_limit_price
        if changes.expiration is not None:
            checks.expiration_allowed(spec, changes.expiration.type, changes.expiration.time, now)
        entry = stop_limit_price or open_price
        base = market if changes.stop_price_base == "CURRENT_PRICE" else entry
        new_stop_loss, new_take_profit = self._levels(spec, changes, base=base, is_buy=is_buy)
        stop_loss = new_stop_loss if given(changes, "stop_loss") else pending.stop_loss
        take_profit = new_take_profit if given(changes, "take_profit") else pending.take_profit
        distances: list[Distance] = []
        if (open_price, stop_limit_price) != (pending.open_price, pending.stop_limit_price):
            distances += checks.pending_prices(action, price, open_price, stop_limit_price)
        entry_name = "the stop limit price" if stop_limit_price else "the open price"
        distances += checks.stops(
            is_buy=is_buy,
            reference=entry,
            reference_name=entry_name,
            stop_loss=stop_loss,
            take_profit=take_profit,
        )
        for distance in distances:
            checks.far_enough(spec, distance)
        return Targets(
            stop_loss=stop_loss,
            take_profit=take_profit,
            open_price=open_price,
            stop_limit_price=stop_limit_price,
        )

    def cancel(self, pending: Order) -> None:
        spec, price = self._market(pending.symbol)
        market = price.ask if _order_action(pending.type) in BUYS else price.bid
        checks.trade_mode_allows(spec, is_buy=None, opening=False)
        checks.market_open(spec, self._broker_now())
        checks.outside_freeze(spec, "path.orderId", "the order's open price", pending.open_price, market)


def _order_action(order_type: str) -> TradeAction:
    try:
        return TradeAction(order_type)
    except ValueError:
        raise TradeRefused("NOT_PENDING", "path.orderId", f"a {order_type} order cannot be changed") from None

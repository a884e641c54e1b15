"""Each pre-trade rule refusing at its edge and passing just inside it, on the five kinds of
symbol the simulator's broker lists (5- and 3-digit forex, gold, an index CFD, crypto)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from mtcore.accounts.models import Account
from mtcore.errors import TradeRefused
from mtcore.market.cache import MarketCache
from mtcore.metaapi.models import AccountInformation, Order, Position, SymbolPrice, SymbolSpecification
from mtcore.trading.bodies import NewOrder, OrderChanges, PositionChanges
from mtcore.trading.pretrade import PreTrade

# A Wednesday, 12:00 broker time (UTC+2): every symbol is in session.
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")
ALL_DAYS = (*WEEKDAYS, "SATURDAY", "SUNDAY")


@dataclass(frozen=True)
class Symbol:
    name: str
    digits: int
    stops_level: int
    volume_step: str
    min_volume: str
    max_volume: str
    bid: str
    spread_points: int
    pip_size: str
    days: tuple[str, ...] = WEEKDAYS

    @property
    def point(self) -> Decimal:
        return Decimal(1).scaleb(-self.digits)

    @property
    def bid_price(self) -> Decimal:
        return Decimal(self.bid)

    @property
    def ask_price(self) -> Decimal:
        return self.bid_price + self.spread_points * self.point


SYMBOLS = [
    Symbol("EURUSD", 5, 10, "0.01", "0.01", "100", "1.08500", 10, "0.0001"),
    Symbol("USDJPY", 3, 10, "0.01", "0.01", "100", "150.000", 12, "0.01"),
    Symbol("XAUUSD", 2, 20, "0.01", "0.01", "50", "2350.00", 30, "0.1"),
    Symbol("US30", 1, 50, "0.1", "0.1", "50", "39000.0", 20, "1"),
    Symbol("BTCUSD", 2, 500, "0.01", "0.01", "10", "67000.00", 2000, "1", ALL_DAYS),
]
BY_NAME = {symbol.name: symbol for symbol in SYMBOLS}


def _spec(symbol: Symbol, **overrides: Any) -> SymbolSpecification:
    body: dict[str, Any] = {
        "symbol": symbol.name,
        "digits": symbol.digits,
        "point": symbol.point,
        "tickSize": symbol.point,
        "minVolume": Decimal(symbol.min_volume),
        "maxVolume": Decimal(symbol.max_volume),
        "volumeStep": Decimal(symbol.volume_step),
        "stopsLevel": symbol.stops_level,
        "freezeLevel": 0,
        "tradeMode": "SYMBOL_TRADE_MODE_FULL",
        "pipSize": Decimal(symbol.pip_size),
        "fillingModes": ["SYMBOL_FILLING_FOK", "SYMBOL_FILLING_IOC"],
        "allowedOrderTypes": [
            "SYMBOL_ORDER_MARKET",
            "SYMBOL_ORDER_LIMIT",
            "SYMBOL_ORDER_STOP",
            "SYMBOL_ORDER_STOP_LIMIT",
            "SYMBOL_ORDER_SL",
            "SYMBOL_ORDER_TP",
            "SYMBOL_ORDER_CLOSEBY",
        ],
        "allowedExpirationModes": ["SYMBOL_EXPIRATION_GTC", "SYMBOL_EXPIRATION_SPECIFIED"],
        "tradeSessions": {
            day: ([{"from": "00:00:00.000", "to": "23:59:59.999"}] if day in symbol.days else [])
            for day in ALL_DAYS
        },
    }
    return SymbolSpecification.model_validate(body | overrides)


@dataclass
class Broker:
    """MetaApi as the checks see it: one symbol's specification and quote, and the account."""

    spec: SymbolSpecification
    price: SymbolPrice
    free_margin: Decimal = Decimal(10_000_000)
    margin_per_lot: Decimal = Decimal(1000)
    margin_mode: str = "ACCOUNT_MARGIN_MODE_RETAIL_HEDGING"
    now: datetime = NOW
    calls: list[str] = field(default_factory=list)

    def server_time(self, _remote: object) -> dict[str, Any]:
        self.calls.append("server-time")
        return {
            "time": self.now.isoformat(),
            "brokerTime": (self.now + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S.000"),
        }

    def specification(self, _remote: object, _symbol: str) -> SymbolSpecification:
        self.calls.append("specification")
        return self.spec

    def current_price(self, _remote: object, _symbol: str) -> SymbolPrice:
        self.calls.append("current-price")
        return self.price

    def account_information(self, _remote: object) -> AccountInformation:
        self.calls.append("account-information")
        return AccountInformation.model_validate(
            {
                "balance": 10_000,
                "equity": 10_000,
                "margin": 0,
                "freeMargin": self.free_margin,
                "marginMode": self.margin_mode,
                "currency": "USD",
                "platform": "mt5",
            }
        )

    def calculate_margin(self, _remote: object, order: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("calculate-margin")
        return {"margin": self.margin_per_lot * Decimal(str(order["volume"]))}


def _desk(symbol: Symbol, account: dict[str, Any] | None = None, **spec: Any) -> tuple[PreTrade, Broker]:
    price = SymbolPrice.model_validate(
        {
            "symbol": symbol.name,
            "bid": symbol.bid_price,
            "ask": symbol.ask_price,
            "time": NOW.isoformat(),
            "brokerTime": (NOW + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S.000"),
        }
    )
    broker = Broker(_spec(symbol, **spec), price)
    linked = Account(
        id="acc",
        user_id="alice",
        metaapi_account_id="meta",
        name="Demo",
        created_at=NOW,
        updated_at=NOW,
        **(account or {}),
    )
    pretrade = PreTrade(client=broker, account=linked, cache=MarketCache(), clock=lambda: NOW)  # type: ignore[arg-type]
    return pretrade, broker


def _order(symbol: Symbol, action: str = "ORDER_TYPE_BUY", **fields: Any) -> NewOrder:
    return NewOrder.model_validate({"symbol": symbol.name, "actionType": action, "volume": 1} | fields)


def _refused(call: Any) -> TradeRefused:
    with pytest.raises(TradeRefused) as refusal:
        call()
    return refusal.value


@pytest.mark.parametrize("symbol", SYMBOLS, ids=lambda s: s.name)
def test_stop_loss_and_take_profit_distance_at_the_edge(symbol: Symbol) -> None:
    pretrade, _ = _desk(symbol)
    level = symbol.stops_level * symbol.point
    edge_stop_loss, edge_take_profit = symbol.bid_price - level, symbol.bid_price + level

    passed = pretrade.new_order(_order(symbol, stopLoss=edge_stop_loss, takeProfit=edge_take_profit))
    too_close_sl = _refused(
        lambda: pretrade.new_order(_order(symbol, stopLoss=edge_stop_loss + symbol.point))
    )
    too_close_tp = _refused(
        lambda: pretrade.new_order(_order(symbol, takeProfit=edge_take_profit - symbol.point))
    )

    assert (passed.stop_loss, passed.take_profit) == (edge_stop_loss, edge_take_profit)
    assert (too_close_sl.code, too_close_sl.details[0].limit, too_close_sl.details[0].value) == (  # type: ignore[index]
        "STOP_LOSS_TOO_CLOSE",
        str(symbol.stops_level),
        str(symbol.stops_level - 1),
    )
    assert too_close_tp.code == "TAKE_PROFIT_TOO_CLOSE"
    assert too_close_sl.message == (
        f"stop loss {edge_stop_loss + symbol.point:.{symbol.digits}f} is {symbol.stops_level - 1} points "
        f"from the bid {symbol.bid_price:.{symbol.digits}f}; this broker needs at least {symbol.stops_level}"
    )


@pytest.mark.parametrize("symbol", SYMBOLS, ids=lambda s: s.name)
def test_a_sells_levels_are_mirrored_and_the_wrong_side_is_named(symbol: Symbol) -> None:
    pretrade, _ = _desk(symbol)
    level = symbol.stops_level * symbol.point

    passed = pretrade.new_order(_order(symbol, "ORDER_TYPE_SELL", stopLoss=symbol.ask_price + level))
    wrong = _refused(
        lambda: pretrade.new_order(_order(symbol, "ORDER_TYPE_SELL", stopLoss=symbol.ask_price - level))
    )

    assert passed.stop_loss == symbol.ask_price + level
    assert wrong.code == "STOP_LOSS_WRONG_SIDE"
    assert "must be above the ask" in wrong.message


@pytest.mark.parametrize("symbol", SYMBOLS, ids=lambda s: s.name)
def test_volume_rounds_down_to_the_step_within_min_and_max(symbol: Symbol) -> None:
    pretrade, _ = _desk(symbol)
    step, smallest, largest = (
        Decimal(symbol.volume_step),
        Decimal(symbol.min_volume),
        Decimal(symbol.max_volume),
    )

    rounded = pretrade.new_order(_order(symbol, volume=smallest + step / 2 + step))
    at_min = pretrade.new_order(_order(symbol, volume=smallest))
    at_max = pretrade.new_order(_order(symbol, volume=largest))
    below = _refused(lambda: pretrade.new_order(_order(symbol, volume=smallest - step / 2)))
    above = _refused(lambda: pretrade.new_order(_order(symbol, volume=largest + step)))

    assert (rounded.volume, at_min.volume, at_max.volume) == (smallest + step, smallest, largest)
    assert (below.code, below.details[0].limit) == ("VOLUME_TOO_SMALL", str(smallest))  # type: ignore[index]
    assert (above.code, above.details[0].limit) == ("VOLUME_TOO_LARGE", str(largest))  # type: ignore[index]


@pytest.mark.parametrize("symbol", SYMBOLS, ids=lambda s: s.name)
def test_pending_prices_at_the_edge(symbol: Symbol) -> None:
    pretrade, _ = _desk(symbol)
    level = symbol.stops_level * symbol.point
    ask, bid = symbol.ask_price, symbol.bid_price

    limit = pretrade.new_order(_order(symbol, "ORDER_TYPE_BUY_LIMIT", openPrice=ask - level))
    stop = pretrade.new_order(_order(symbol, "ORDER_TYPE_SELL_STOP", openPrice=bid - level))
    stop_limit = pretrade.new_order(
        _order(symbol, "ORDER_TYPE_BUY_STOP_LIMIT", openPrice=ask + level, stopLimitPrice=ask)
    )
    too_close = _refused(
        lambda: pretrade.new_order(
            _order(symbol, "ORDER_TYPE_BUY_LIMIT", openPrice=ask - level + symbol.point)
        )
    )
    wrong_side = _refused(
        lambda: pretrade.new_order(_order(symbol, "ORDER_TYPE_BUY_STOP", openPrice=ask - level))
    )
    limit_too_close = _refused(
        lambda: pretrade.new_order(
            _order(
                symbol, "ORDER_TYPE_BUY_STOP_LIMIT", openPrice=ask + level, stopLimitPrice=ask + symbol.point
            )
        )
    )

    assert limit.requested_price is None
    assert stop.volume == stop_limit.volume == 1
    assert (too_close.code, wrong_side.code) == ("OPEN_PRICE_TOO_CLOSE", "OPEN_PRICE_WRONG_SIDE")
    assert limit_too_close.code == "STOP_LIMIT_PRICE_TOO_CLOSE"


def test_a_pending_orders_levels_are_measured_from_its_own_price() -> None:
    symbol = BY_NAME["EURUSD"]
    pretrade, _ = _desk(symbol)
    open_price = Decimal("1.08000")

    passed = pretrade.new_order(
        _order(symbol, "ORDER_TYPE_BUY_LIMIT", openPrice=open_price, stopLoss=open_price - 10 * symbol.point)
    )
    refused = _refused(
        lambda: pretrade.new_order(
            _order(
                symbol, "ORDER_TYPE_BUY_LIMIT", openPrice=open_price, stopLoss=open_price - 9 * symbol.point
            )
        )
    )

    assert passed.stop_loss == Decimal("1.07990")
    assert refused.message.endswith("from the open price 1.08000; this broker needs at least 10")


@pytest.mark.parametrize(
    ("units", "value", "expected_stop_loss"),
    [
        ("RELATIVE_POINTS", 150, Decimal("1.08360")),
        ("RELATIVE_PIPS", 15, Decimal("1.08360")),
        ("RELATIVE_PRICE", Decimal("0.0015"), Decimal("1.08360")),
    ],
)
def test_relative_levels_become_prices_from_the_entry(
    units: str, value: object, expected_stop_loss: Decimal
) -> None:
    pretrade, _ = _desk(BY_NAME["EURUSD"])  # buys at the ask, 1.08510

    checked = pretrade.new_order(_order(BY_NAME["EURUSD"], stopLoss=value, stopLossUnits=units))

    assert checked.stop_loss == expected_stop_loss


def test_buffers_move_levels_away_from_the_entry_for_buys_and_sells() -> None:
    symbol = BY_NAME["USDJPY"]
    pretrade, _ = _desk(
        symbol, {"stop_loss_buffer_pips": Decimal("1.5"), "take_profit_buffer_pips": Decimal(2)}
    )

    buy = pretrade.new_order(_order(symbol, stopLoss=Decimal("149.500"), takeProfit=Decimal("150.500")))
    sell = pretrade.new_order(
        _order(symbol, "ORDER_TYPE_SELL", stopLoss=Decimal("150.500"), takeProfit=Decimal("149.500"))
    )

    assert (buy.stop_loss, buy.take_profit) == (Decimal("149.485"), Decimal("150.520"))
    assert (sell.stop_loss, sell.take_profit) == (Decimal("150.515"), Decimal("149.480"))


def test_forex_is_closed_at_the_weekend_while_crypto_trades_and_pending_orders_are_taken() -> None:
    saturday = NOW + timedelta(days=3)
    forex, forex_broker = _desk(BY_NAME["EURUSD"])
    crypto, crypto_broker = _desk(BY_NAME["BTCUSD"])
    forex_broker.now = crypto_broker.now = saturday

    closed = _refused(lambda: forex.new_order(_order(BY_NAME["EURUSD"])))
    pending = forex.new_order(_order(BY_NAME["EURUSD"], "ORDER_TYPE_BUY_LIMIT", openPrice=Decimal("1.08000")))
    crypto.new_order(_order(BY_NAME["BTCUSD"], volume=Decimal("0.5")))

    assert closed.code == "MARKET_CLOSED"
    assert (
        closed.message == "EURUSD is not trading now (Saturday 12:00 broker time; sessions: closed all day)"
    )
    assert pending.volume == 1


@pytest.mark.parametrize(
    ("mode", "action", "code"),
    [
        ("SYMBOL_TRADE_MODE_DISABLED", "ORDER_TYPE_BUY", "TRADING_DISABLED"),
        ("SYMBOL_TRADE_MODE_LONGONLY", "ORDER_TYPE_SELL", "LONG_ONLY"),
        ("SYMBOL_TRADE_MODE_SHORTONLY", "ORDER_TYPE_BUY", "SHORT_ONLY"),
        ("SYMBOL_TRADE_MODE_CLOSEONLY", "ORDER_TYPE_BUY", "CLOSE_ONLY"),
    ],
)
def test_trade_modes_refuse_what_they_forbid(mode: str, action: str, code: str) -> None:
    symbol = BY_NAME["XAUUSD"]
    pretrade, _ = _desk(symbol, tradeMode=mode)
    other_side = "ORDER_TYPE_BUY" if action == "ORDER_TYPE_SELL" else "ORDER_TYPE_SELL"

    refusal = _refused(lambda: pretrade.new_order(_order(symbol, action)))

    assert refusal.code == code
    if mode in ("SYMBOL_TRADE_MODE_LONGONLY", "SYMBOL_TRADE_MODE_SHORTONLY"):
        assert pretrade.new_order(_order(symbol, other_side)).volume == 1


def test_order_types_and_expiration_modes_the_symbol_does_not_allow() -> None:
    symbol = BY_NAME["US30"]
    pretrade, _ = _desk(
        symbol, allowedOrderTypes=["SYMBOL_ORDER_MARKET", "SYMBOL_ORDER_LIMIT", "SYMBOL_ORDER_SL"]
    )
    open_price = symbol.ask_price - 100 * symbol.point

    stop_order = _refused(
        lambda: pretrade.new_order(_order(symbol, "ORDER_TYPE_BUY_STOP", openPrice=symbol.ask_price + 10))
    )
    take_profit = _refused(lambda: pretrade.new_order(_order(symbol, takeProfit=symbol.bid_price + 10)))
    day = _refused(
        lambda: pretrade.new_order(
            _order(
                symbol, "ORDER_TYPE_BUY_LIMIT", openPrice=open_price, expiration={"type": "ORDER_TIME_DAY"}
            )
        )
    )
    past = _refused(
        lambda: pretrade.new_order(
            _order(
                symbol,
                "ORDER_TYPE_BUY_LIMIT",
                openPrice=open_price,
                expiration={"type": "ORDER_TIME_SPECIFIED", "time": (NOW - timedelta(minutes=1)).isoformat()},
            )
        )
    )
    specified = pretrade.new_order(
        _order(
            symbol,
            "ORDER_TYPE_BUY_LIMIT",
            openPrice=open_price,
            expiration={"type": "ORDER_TIME_SPECIFIED", "time": (NOW + timedelta(hours=1)).isoformat()},
        )
    )

    assert (stop_order.code, take_profit.code) == ("ORDER_TYPE_NOT_ALLOWED", "ORDER_TYPE_NOT_ALLOWED")
    assert (day.code, past.code) == ("EXPIRATION_NOT_ALLOWED", "EXPIRATION_IN_PAST")
    assert specified.volume == 1


def test_the_accounts_maximum_spread_at_the_edge() -> None:
    symbol = BY_NAME["EURUSD"]
    at_edge, _ = _desk(symbol, {"max_spread_points": symbol.spread_points})
    below, _ = _desk(symbol, {"max_spread_points": symbol.spread_points - 1})

    at_edge.new_order(_order(symbol))
    refusal = _refused(lambda: below.new_order(_order(symbol)))

    assert (refusal.code, refusal.details[0].limit, refusal.details[0].value) == (  # type: ignore[index]
        "SPREAD_TOO_WIDE",
        str(symbol.spread_points - 1),
        str(symbol.spread_points),
    )


def test_margin_against_free_margin_at_the_edge_and_only_on_hedging_accounts() -> None:
    symbol = BY_NAME["EURUSD"]
    pretrade, broker = _desk(symbol)
    broker.free_margin = Decimal(2000)

    pretrade.new_order(_order(symbol, volume=2))  # exactly the free margin
    refusal = _refused(lambda: pretrade.new_order(_order(symbol, volume=Decimal("2.01"))))
    netting, netting_broker = _desk(symbol)
    netting_broker.free_margin, netting_broker.margin_mode = Decimal(0), "ACCOUNT_MARGIN_MODE_RETAIL_NETTING"

    assert refusal.code == "INSUFFICIENT_MARGIN"
    assert refusal.message == "this order needs 2010.00 USD of margin; the account has 2000.00 USD free"
    assert netting.new_order(_order(symbol)).volume == 1


def test_a_warm_cache_checks_an_order_without_calling_metaapi() -> None:
    symbol = BY_NAME["EURUSD"]
    pretrade, broker = _desk(symbol)

    pretrade.new_order(_order(symbol))
    cold = list(broker.calls)
    broker.calls.clear()
    pretrade.new_order(_order(symbol, volume=Decimal("0.5")))

    assert sorted(cold) == [
        "account-information",
        "calculate-margin",
        "current-price",
        "server-time",
        "specification",
    ]
    assert broker.calls == []


def _position(**fields: Any) -> Position:
    body = {
        "id": "7",
        "type": "POSITION_TYPE_BUY",
        "symbol": "EURUSD",
        "time": NOW.isoformat(),
        "openPrice": Decimal("1.08400"),
        "volume": Decimal(1),
    }
    return Position.model_validate(body | fields)


def test_modifying_a_position_keeps_what_is_not_sent_and_respects_the_freeze_level() -> None:
    symbol = BY_NAME["EURUSD"]
    pretrade, _ = _desk(symbol, freezeLevel=5)
    position = _position(stopLoss=Decimal("1.08300"), takeProfit=Decimal("1.09000"))

    targets = pretrade.position_change(position, PositionChanges.model_validate({"stopLoss": 1.0835}))
    removed = pretrade.position_change(position, PositionChanges.model_validate({"takeProfit": None}))
    frozen = _refused(
        lambda: pretrade.position_change(
            _position(stopLoss=symbol.bid_price - 5 * symbol.point),
            PositionChanges.model_validate({"stopLoss": 1.083}),
        )
    )
    outside = pretrade.position_change(
        _position(stopLoss=symbol.bid_price - 6 * symbol.point),
        PositionChanges.model_validate({"stopLoss": 1.083}),
    )

    assert (targets.stop_loss, targets.take_profit) == (Decimal("1.0835"), Decimal("1.09000"))
    assert (removed.stop_loss, removed.take_profit) == (Decimal("1.08300"), None)
    assert (frozen.code, frozen.details[0].limit) == ("FROZEN", "5")  # type: ignore[index]
    assert outside.stop_loss == Decimal("1.083")


def test_modifying_a_pending_order_checks_its_new_price() -> None:
    symbol = BY_NAME["EURUSD"]
    pretrade, _ = _desk(symbol)
    pending = Order.model_validate(
        {
            "id": "9",
            "type": "ORDER_TYPE_BUY_LIMIT",
            "symbol": "EURUSD",
            "time": NOW.isoformat(),
            "openPrice": Decimal("1.08000"),
            "volume": 1,
        }
    )

    moved = pretrade.order_change(pending, OrderChanges.model_validate({"openPrice": 1.085}))
    refusal = _refused(
        lambda: pretrade.order_change(pending, OrderChanges.model_validate({"openPrice": 1.08501}))
    )

    assert (moved.open_price, moved.stop_loss) == (Decimal("1.085"), None)
    assert refusal.code == "OPEN_PRICE_TOO_CLOSE"


def test_close_by_needs_a_hedging_account() -> None:
    pretrade, broker = _desk(BY_NAME["EURUSD"])
    broker.margin_mode = "ACCOUNT_MARGIN_MODE_RETAIL_NETTING"

    refusal = _refused(pretrade.hedging_required)
    not_opposite = _refused(lambda: pretrade.close_by(_position(), _position(id="8")))

    assert refusal.code == "NETTING_ACCOUNT"
    assert refusal.message.startswith("close-by needs a hedging account")
    assert not_opposite.code == "NOT_OPPOSITE"


def test_a_relative_level_that_works_out_at_no_price_is_refused() -> None:
    symbol = BY_NAME["EURUSD"]
    pretrade, _ = _desk(symbol)

    refusal = _refused(
        lambda: pretrade.new_order(_order(symbol, stopLoss=Decimal("1.0851"), stopLossUnits="RELATIVE_PRICE"))
    )

    assert (refusal.code, refusal.details[0].value) == ("STOP_LOSS_INVALID", "0.00000")  # type: ignore[index]


def test_a_volume_that_rounds_to_nothing_is_refused_even_without_a_minimum() -> None:
    symbol = BY_NAME["EURUSD"]
    pretrade, broker = _desk(symbol)
    broker.spec = broker.spec.model_copy(update={"min_volume": None})

    refusal = _refused(lambda: pretrade.new_order(_order(symbol, volume=Decimal("0.001"))))

    assert (refusal.code, refusal.details[0].limit) == ("VOLUME_TOO_SMALL", "0.01")  # type: ignore[index]


def test_specified_day_takes_a_time_earlier_today_and_return_filling_only_for_pending_orders() -> None:
    symbol = BY_NAME["EURUSD"]
    pretrade, _ = _desk(symbol, allowedExpirationModes=["SYMBOL_EXPIRATION_SPECIFIED_DAY"])
    earlier_today = (NOW - timedelta(hours=1)).isoformat()

    today = pretrade.new_order(
        _order(
            symbol,
            "ORDER_TYPE_BUY_LIMIT",
            openPrice=Decimal("1.08"),
            expiration={"type": "ORDER_TIME_SPECIFIED_DAY", "time": earlier_today},
            fillingModes=["ORDER_FILLING_RETURN"],
        )
    )
    market = _refused(lambda: pretrade.new_order(_order(symbol, fillingModes=["ORDER_FILLING_RETURN"])))

    assert today.volume == 1
    assert market.code == "FILLING_MODE_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("name", "digits", "base", "pip"),
    [
        ("XAUUSD", 2, "XAU", "0.1"),  # a 50-pip stop on gold is 5.00, not 0.50
        ("XAUUSD.m", 3, None, "0.1"),
        ("GOLD", 2, None, "0.1"),
        ("XAGUSD", 3, "XAG", "0.01"),
        ("EURUSD", 5, "EUR", "0.0001"),
        ("USDJPY", 3, "USD", "0.01"),
        ("US30", 1, None, "0.1"),
    ],
)
def test_without_the_brokers_pip_size_a_pip_follows_the_symbols_convention(
    name: str, digits: int, base: str | None, pip: str
) -> None:
    symbol = replace(BY_NAME["XAUUSD"], name=name, digits=digits, bid="2350.00")
    spec: dict[str, Any] = {"pipSize": None} | ({"baseCurrency": base} if base else {})
    pretrade, _ = _desk(symbol, **spec)

    checked = pretrade.new_order(_order(symbol, stopLoss=50, stopLossUnits="RELATIVE_PIPS"))

    assert checked.pip_size == Decimal(pip)
    assert checked.stop_loss == symbol.ask_price - 50 * Decimal(pip)

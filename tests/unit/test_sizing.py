"""Position sizing on every asset class and on USD, EUR and JPY accounts. Every expected volume is
worked out by hand in the table below (not by the code under test): the loss of one lot at the
stop loss is the distance in ticks times what one tick of one lot is worth in the account's
currency, and the volume is the risk budget over it, rounded down to the volume step."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter

from mtcore.errors import TradeRefused
from mtcore.metaapi.models import AccountInformation, SymbolPrice, SymbolSpecification
from mtcore.risk.models import Sizing
from mtcore.risk.sizing import SizingMarket, size

# symbol: (tick size, contract size, volume step, min volume, profit currency, entry, stop loss)
SYMBOLS: dict[str, tuple[str, str, str, str, str, str, str]] = {
    "EURUSD": ("0.00001", "100000", "0.01", "0.01", "USD", "1.10000", "1.09800"),  # 200 ticks
    "USDJPY": ("0.001", "100000", "0.01", "0.01", "JPY", "150.000", "149.700"),  # 300 ticks
    "GBPJPY": ("0.001", "100000", "0.01", "0.01", "JPY", "190.000", "189.550"),  # 450 ticks
    "XAUUSD": ("0.01", "100", "0.01", "0.01", "USD", "2350.00", "2345.00"),  # 500 ticks
    "US30": ("0.1", "1", "0.1", "0.1", "USD", "39000.0", "38950.0"),  # 500 ticks
    "BTCUSD": ("0.01", "1", "0.01", "0.01", "USD", "67000.00", "66000.00"),  # 100000 ticks
}
# Rates of the day: EURUSD 1.25, USDJPY 150, EURJPY 160 (1 USD = 0.8 EUR; 1 JPY = 1/160 EUR).
# account currency: (equity, {symbol: value of one tick of one lot in it, by hand})
ACCOUNTS: dict[str, tuple[str, dict[str, str]]] = {
    "USD": (
        "10000",
        {
            "EURUSD": "1",  # 0.00001 x 100000 USD
            "USDJPY": "0.6666666666666667",  # 100 JPY / 150
            "GBPJPY": "0.6666666666666667",  # 100 JPY / 150
            "XAUUSD": "1",  # 0.01 x 100 USD
            "US30": "0.1",  # 0.1 x 1 USD
            "BTCUSD": "0.01",  # 0.01 x 1 USD
        },
    ),
    "EUR": (
        "10000",
        {
            "EURUSD": "0.8",  # 1 USD x 0.8
            "USDJPY": "0.625",  # 100 JPY / 160
            "GBPJPY": "0.625",
            "XAUUSD": "0.8",
            "US30": "0.08",
            "BTCUSD": "0.008",
        },
    ),
    "JPY": (
        "1500000",
        {
            "EURUSD": "150",  # 1 USD x 150
            "USDJPY": "100",
            "GBPJPY": "100",
            "XAUUSD": "150",
            "US30": "15",
            "BTCUSD": "1.5",
        },
    ),
}
# Risking 1% of equity: (account, symbol) -> (loss of one lot at the stop, lots, money at risk)
EXPECTED: dict[tuple[str, str], tuple[str, str, str]] = {
    ("USD", "EURUSD"): ("200", "0.5", "100.00"),  # 100 / 200
    ("USD", "USDJPY"): ("200", "0.5", "100.00"),  # 300 x 0.6667 = 200
    ("USD", "GBPJPY"): ("300", "0.33", "99.00"),  # 450 x 0.6667 = 300; 100/300 = 0.333
    ("USD", "XAUUSD"): ("500", "0.2", "100.00"),
    ("USD", "US30"): ("50", "2.0", "100.00"),
    ("USD", "BTCUSD"): ("1000", "0.1", "100.00"),
    ("EUR", "EURUSD"): ("160", "0.62", "99.20"),  # 100 / 160 = 0.625
    ("EUR", "USDJPY"): ("187.5", "0.53", "99.37"),  # 300 x 0.625; 100 / 187.5 = 0.533
    ("EUR", "GBPJPY"): ("281.25", "0.35", "98.43"),  # 450 x 0.625; 0.3555
    ("EUR", "XAUUSD"): ("400", "0.25", "100.00"),
    ("EUR", "US30"): ("40", "2.5", "100.00"),
    ("EUR", "BTCUSD"): ("800", "0.12", "96.00"),  # 100 / 800 = 0.125
    ("JPY", "EURUSD"): ("30000", "0.5", "15000.00"),  # budget 15000 JPY
    ("JPY", "USDJPY"): ("30000", "0.5", "15000.00"),
    ("JPY", "GBPJPY"): ("45000", "0.33", "14850.00"),
    ("JPY", "XAUUSD"): ("75000", "0.2", "15000.00"),
    ("JPY", "US30"): ("7500", "2.0", "15000.00"),
    ("JPY", "BTCUSD"): ("150000", "0.1", "15000.00"),
}
SIZING: TypeAdapter[Any] = TypeAdapter(Sizing)


def _market(symbol: str, currency: str, **changes: Any) -> SizingMarket:
    tick, contract, step, smallest, profit_currency, entry, _ = SYMBOLS[symbol]
    equity, tick_values = ACCOUNTS[currency]
    spec = SymbolSpecification.model_validate(
        {
            "symbol": symbol,
            "tickSize": Decimal(tick),
            "point": Decimal(tick),
            "contractSize": Decimal(contract),
            "volumeStep": Decimal(step),
            "minVolume": Decimal(smallest),
            "maxVolume": Decimal(100),
            "profitCurrency": profit_currency,
        }
        | changes.pop("spec", {})
    )
    value = changes.pop("tick_value", Decimal(tick_values[symbol]))
    price = SymbolPrice(symbol=symbol, bid=Decimal(entry), ask=Decimal(entry), loss_tick_value=value)
    account = AccountInformation.model_validate(
        {
            "currency": currency,
            "balance": Decimal(equity),
            "equity": Decimal(equity),
            "margin": 0,
            "freeMargin": Decimal(equity),
        }
    )
    return SizingMarket(spec=spec, price=price, account=account, **changes)


@pytest.mark.parametrize(("currency", "symbol"), list(EXPECTED), ids=lambda value: str(value))
def test_risking_a_percent_of_equity_sizes_every_asset_class_on_every_account_currency(
    currency: str, symbol: str
) -> None:
    _, _, _, _, _, entry, stop_loss = SYMBOLS[symbol]
    _, lots, at_risk = EXPECTED[(currency, symbol)]
    budget = Decimal(ACCOUNTS[currency][0]) / 100

    sized = size(
        SIZING.validate_python({"mode": "risk_percent", "percent": 1}),
        _market(symbol, currency),
        entry=Decimal(entry),
        stop_loss=Decimal(stop_loss),
    )

    assert sized.volume == Decimal(lots)
    assert sized.risk_amount == Decimal(at_risk)
    assert sized.risk_amount <= budget  # never over the budget
    assert sized.risk_percent == (Decimal(at_risk) / Decimal(ACCOUNTS[currency][0]) * 100).quantize(
        Decimal("0.01")
    )


def test_a_fixed_amount_of_risk_in_the_accounts_currency() -> None:
    # 250 EUR over 160 EUR a lot on EURUSD: 1.5625 lots, rounded down to 1.56
    sized = size(
        SIZING.validate_python({"mode": "risk_amount", "amount": 250}),
        _market("EURUSD", "EUR"),
        entry=Decimal("1.10000"),
        stop_loss=Decimal("1.09800"),
    )

    assert (sized.volume, sized.risk_amount) == (Decimal("1.56"), Decimal("249.60"))


def test_risk_of_the_balance_instead_of_the_equity() -> None:
    market = _market("XAUUSD", "USD")
    poorer = AccountInformation.model_validate(market.account.model_dump(by_alias=True) | {"balance": 5000})

    sized = size(
        SIZING.validate_python({"mode": "risk_percent", "percent": 2, "of": "balance"}),
        SizingMarket(spec=market.spec, price=market.price, account=poorer),
        entry=Decimal("2350.00"),
        stop_loss=Decimal("2345.00"),
    )

    assert sized.volume == Decimal("0.2")  # 2% of 5000 = 100 over 500 a lot


def test_when_even_the_smallest_trade_risks_too_much_the_order_is_refused_never_rounded_up() -> None:
    # 0.1% of 10000 USD is 10 USD; 0.01 lot of BTCUSD with a 1000 stop risks 10 USD... at 2000, 20
    with pytest.raises(TradeRefused) as refusal:
        size(
            SIZING.validate_python({"mode": "risk_percent", "percent": Decimal("0.1")}),
            _market("BTCUSD", "USD"),
            entry=Decimal("67000.00"),
            stop_loss=Decimal("65000.00"),
        )

    assert refusal.value.code == "SIZING_BELOW_MIN_VOLUME"
    assert refusal.value.message == (
        "even the smallest trade, 0.01 lots of BTCUSD, would risk 20.00 USD, more than the 10.00 USD allowed"
    )


def test_risk_sizing_needs_a_stop_loss() -> None:
    with pytest.raises(TradeRefused) as refusal:
        size(
            SIZING.validate_python({"mode": "risk_amount", "amount": 100}),
            _market("EURUSD", "USD"),
            entry=Decimal("1.10000"),
            stop_loss=None,
        )

    assert refusal.value.code == "SIZING_NEEDS_STOP_LOSS"


def test_margin_and_notional_sizing() -> None:
    # 10% of 10000 USD free margin over 1100 USD a lot: 0.909 -> 0.9
    by_margin = size(
        SIZING.validate_python({"mode": "margin_percent", "percent": 10}),
        _market("EURUSD", "USD", margin_per_lot=Decimal(1100)),
        entry=Decimal("1.10000"),
        stop_loss=None,
    )
    # 50000 USD of EURUSD at 1.1: a lot is worth 1.1 / 0.00001 x 1 = 110000 USD -> 0.4545 -> 0.45
    by_value = size(
        SIZING.validate_python({"mode": "notional", "amount": 50000}),
        _market("EURUSD", "USD"),
        entry=Decimal("1.10000"),
        stop_loss=None,
    )
    # 10000 EUR of gold at 2350 on a EUR account: a lot is 2350 / 0.01 x 0.8 = 188000 EUR -> 0.053 -> 0.05
    gold_in_euros = size(
        SIZING.validate_python({"mode": "notional", "amount": 10000}),
        _market("XAUUSD", "EUR"),
        entry=Decimal("2350.00"),
        stop_loss=None,
    )

    assert (by_margin.volume, by_value.volume, gold_in_euros.volume) == (
        Decimal("0.9"),
        Decimal("0.45"),
        Decimal("0.05"),
    )
    assert by_margin.risk_amount is None  # no stop loss: nothing measured at risk


def test_without_tick_values_a_tick_is_converted_at_the_given_rate_or_the_order_cannot_be_sized() -> None:
    # USDJPY on a USD account, quote without tick values: 100 JPY a tick at 1/150 USD a yen
    converted = size(
        SIZING.validate_python({"mode": "risk_amount", "amount": 100}),
        _market("USDJPY", "USD", tick_value=None, conversion=Decimal(1) / Decimal(150)),
        entry=Decimal("150.000"),
        stop_loss=Decimal("149.700"),
    )
    same_currency = size(
        SIZING.validate_python({"mode": "risk_amount", "amount": 100}),
        _market("XAUUSD", "USD", tick_value=None),
        entry=Decimal("2350.00"),
        stop_loss=Decimal("2345.00"),
    )
    with pytest.raises(TradeRefused) as unknown:
        size(
            SIZING.validate_python({"mode": "risk_amount", "amount": 100}),
            _market("USDJPY", "EUR", tick_value=None),
            entry=Decimal("150.000"),
            stop_loss=Decimal("149.700"),
        )

    assert (converted.volume, same_currency.volume) == (Decimal("0.5"), Decimal("0.2"))
    assert unknown.value.code == "SIZING_NO_TICK_VALUE"


@pytest.mark.parametrize("max_volume", [Decimal(100), None])
def test_a_budget_beyond_any_volume_is_sized_to_the_most_the_broker_takes(max_volume: Decimal | None) -> None:
    # 10^17 EUR over 0.008 EUR a tick, one tick away: far more lots than Decimal's 28 digits hold.
    sized = size(
        SIZING.validate_python({"mode": "risk_amount", "amount": 10**17}),
        _market("BTCUSD", "EUR", spec={"maxVolume": max_volume}),
        entry=Decimal("67000.00"),
        stop_loss=Decimal("66999.99"),
    )

    assert sized.volume == (max_volume or Decimal(10) ** 9)

"""An alert's symbol as each broker names it."""

from __future__ import annotations

import pytest

from mtcore.signals.symbols import SymbolRefused, broker_symbol

PLAIN = ["EURUSD", "GBPUSD", "XAUUSD", "US30"]


@pytest.mark.parametrize(
    ("alert", "offered", "expected"),
    [
        ("EURUSD", PLAIN, "EURUSD"),
        ("eurusd", PLAIN, "EURUSD"),
        ("EURUSD", ["EURUSD.m", "GBPUSD.m"], "EURUSD.m"),
        ("EURUSD", ["EURUSDm", "GBPUSDm"], "EURUSDm"),
        ("EURUSD", ["EURUSD.pro"], "EURUSD.pro"),
        ("EURUSD", ["EURUSD+"], "EURUSD+"),
        ("EURUSD", ["#EURUSD"], "#EURUSD"),
        ("XAUUSD", ["GOLD", "SILVER"], "GOLD"),
        ("GOLD", ["XAUUSD.r"], "XAUUSD.r"),
        ("US30", ["DJ30", "USTEC"], "DJ30"),
        ("WS30", ["US30"], "US30"),
        ("NAS100", ["USTEC", "US30"], "USTEC"),
        ("BTCUSD", ["BITCOIN"], "BITCOIN"),
        # An exact name wins over suffixed ones.
        ("EURUSD", ["EURUSD", "EURUSD.m"], "EURUSD"),
    ],
)
def test_names_are_matched(alert: str, offered: list[str], expected: str) -> None:
    assert broker_symbol(alert, offered, None) == expected


def test_the_webhooks_map_comes_first() -> None:
    assert broker_symbol("XAUUSD", ["XAUUSD", "GOLD.i"], {"XAUUSD": "GOLD.i"}) == "GOLD.i"


def test_a_map_to_a_symbol_the_account_lacks_is_refused() -> None:
    with pytest.raises(
        SymbolRefused, match="maps XAUUSD to GOLD, which this account does not offer"
    ) as refused:
        broker_symbol("XAUUSD", PLAIN, {"XAUUSD": "GOLD"})
    assert refused.value.code == "SIGNAL_SYMBOL_UNKNOWN"


def test_an_ambiguous_symbol_names_its_candidates() -> None:
    with pytest.raises(SymbolRefused, match=r"several .*\(EURUSD.m, EURUSD.pro\)") as refused:
        broker_symbol("EURUSD", ["EURUSD.m", "EURUSD.pro", "GBPUSD.m"], None)
    assert refused.value.code == "SIGNAL_SYMBOL_AMBIGUOUS"


def test_an_unknown_symbol_names_the_closest() -> None:
    with pytest.raises(
        SymbolRefused, match="no symbol matching EURCHF; its closest symbols: EURUSD"
    ) as refused:
        broker_symbol("EURCHF", PLAIN, None)
    assert refused.value.code == "SIGNAL_SYMBOL_UNKNOWN"


def test_a_longer_name_is_not_a_suffix() -> None:
    # EURUSDX is another instrument to a broker only if its tag is a marker or lowercase.
    with pytest.raises(SymbolRefused):
        broker_symbol("EURUSD", ["EURUSDXYZW1"], None)

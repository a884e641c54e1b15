"""An alert's symbol as one account's broker names it: the webhook's map, else the account's own
symbol list matched exactly, then with the broker's suffix or prefix (`EURUSD.m`, `EURUSDm`,
`EURUSD.pro`, `EURUSD+`, `#EURUSD`), then through the common aliases of indices and metals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mtcore.errors import TradeRefused

ALIASES: tuple[frozenset[str], ...] = (
    frozenset({"XAUUSD", "GOLD"}),
    frozenset({"XAGUSD", "SILVER"}),
    frozenset({"US30", "DJ30", "WS30", "DJI30", "DOW30"}),
    frozenset({"NAS100", "USTEC", "US100", "NDX100"}),
    frozenset({"SPX500", "US500", "SP500"}),
    frozenset({"GER40", "DE40", "GER30", "DAX40"}),
    frozenset({"BTCUSD", "BITCOIN", "XBTUSD"}),
    frozenset({"ETHUSD", "ETHEREUM"}),
)
_MAX_AFFIX = 4
_NAMED = 5  # candidates named in a refusal


class SymbolRefused(TradeRefused):
    pass


def _affix_ok(affix: str) -> bool:
    """What brokers add to a name: a marker (`.m`, `+`, `#`, `_i`) or a short lowercase tag (`m`)."""
    if not affix or len(affix) > _MAX_AFFIX:
        return not affix
    return not affix[0].isalnum() or affix.islower()


def _matches(name: str, broker_symbols: Iterable[str]) -> list[str]:
    wanted = name.upper()
    exact = [symbol for symbol in broker_symbols if symbol.upper() == wanted]
    if exact:
        return exact
    found = []
    for symbol in broker_symbols:
        upper = symbol.upper()
        at = upper.find(wanted)
        if at < 0:
            continue
        prefix, suffix = symbol[:at], symbol[at + len(wanted) :]
        if _affix_ok(prefix) and _affix_ok(suffix) and len(prefix) + len(suffix) <= _MAX_AFFIX:
            found.append(symbol)
    return found


def broker_symbol(alert_symbol: str, broker_symbols: list[str], symbol_map: Mapping[str, str] | None) -> str:
    """The account's symbol for the alert's, or SymbolRefused naming the candidates."""
    mapped = (symbol_map or {}).get(alert_symbol) or next(
        (target for source, target in (symbol_map or {}).items() if source.upper() == alert_symbol.upper()),
        None,
    )
    if mapped is not None:
        if mapped in broker_symbols:
            return mapped
        raise SymbolRefused(
            "SIGNAL_SYMBOL_UNKNOWN",
            "symbol",
            f"the webhook maps {alert_symbol} to {mapped}, which this account does not offer",
        )
    candidates = _matches(alert_symbol, broker_symbols)
    if not candidates:
        group = next((names for names in ALIASES if alert_symbol.upper() in names), frozenset())
        candidates = sorted(
            {found for alias in group - {alert_symbol.upper()} for found in _matches(alias, broker_symbols)}
        )
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        named = ", ".join(sorted(candidates)[:_NAMED])
        raise SymbolRefused(
            "SIGNAL_SYMBOL_AMBIGUOUS",
            "symbol",
            f"{alert_symbol} matches several of this account's symbols ({named}): "
            "name one in the webhook's symbolMap",
        )
    near = sorted(symbol for symbol in broker_symbols if alert_symbol.upper()[:3] in symbol.upper())[:_NAMED]
    hint = f"; its closest symbols: {', '.join(near)}" if near else ""
    raise SymbolRefused(
        "SIGNAL_SYMBOL_UNKNOWN",
        "symbol",
        f"this account offers no symbol matching {alert_symbol}{hint}; map it in the webhook's symbolMap",
    )

"""Reading alerts: JSON, JSON sent as text, PineConnector lines, and what is wrong with the rest."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mtcore.signals.alerts import AlertInvalid, read_alert, redact
from mtcore.trading import Command


def test_a_json_alert_uses_the_order_apis_names() -> None:
    alert = read_alert(
        '{"action": "buy", "symbol": "EURUSD", "volume": 0.25, "stopLoss": 1.08, "takeProfit": 1.1,'
        ' "comment": "tv", "signalId": "abc-1", "secret": "s3cret", "time": "2026-12-03T10:00:00Z"}'
    )
    (command,) = alert.commands
    assert (command.command, command.symbol, command.volume) == (Command.BUY, "EURUSD", Decimal("0.25"))
    assert (command.stop_loss, command.take_profit, command.comment) == (
        Decimal("1.08"),
        Decimal("1.1"),
        "tv",
    )
    assert (alert.secret, alert.signal_id) == ("s3cret", "abc-1")
    assert "s3cret" not in alert.redacted


def test_sl_and_tp_in_json_are_pips() -> None:
    (command,) = read_alert(
        '{"action": "sell", "symbol": "GBPUSD", "sl": 20, "tp": 40, "secret": "x"}'
    ).commands
    assert (command.stop_loss, command.stop_loss_units) == (Decimal(20), "RELATIVE_PIPS")
    assert (command.take_profit, command.take_profit_units) == (Decimal(40), "RELATIVE_PIPS")


def test_a_pineconnector_line_reads_its_parameters() -> None:
    alert = read_alert("SECRET1,buy,EURUSD,risk=1,sl=20,tp=40,comment=breakout,spread=2")
    (command,) = alert.commands
    assert alert.secret == "SECRET1"
    assert command.command is Command.BUY
    assert command.risk == Decimal(1)
    assert (command.stop_loss, command.stop_loss_units) == (Decimal(20), "RELATIVE_PIPS")
    assert (command.take_profit, command.comment, command.max_spread_pips) == (
        Decimal(40),
        "breakout",
        Decimal(2),
    )
    assert alert.redacted == "***,buy,EURUSD,risk=1,sl=20,tp=40,comment=breakout,spread=2"


def test_several_lines_are_several_commands() -> None:
    alert = read_alert("S,closeshort,EURUSD\nS,long,EURUSD,risk=0.5\n\nS,buylimit,GBPUSD,price=1.25")
    assert [(c.command, c.symbol) for c in alert.commands] == [
        (Command.CLOSE_SHORT, "EURUSD"),
        (Command.BUY, "EURUSD"),
        (Command.BUY_LIMIT, "GBPUSD"),
    ]
    assert alert.commands[2].open_price == Decimal("1.25")


@pytest.mark.parametrize(
    ("word", "command"),
    [
        ("buy", Command.BUY),
        ("long", Command.BUY),
        ("sell", Command.SELL),
        ("short", Command.SELL),
        ("closelong", Command.CLOSE_LONG),
        ("closeshort", Command.CLOSE_SHORT),
        ("closelongshort", Command.CLOSE_ALL),
        ("closeall", Command.CLOSE_ALL),
        ("cancellong", Command.CANCEL_LONG),
        ("cancelshort", Command.CANCEL_SHORT),
        ("CloseLong", Command.CLOSE_LONG),
    ],
)
def test_every_command_word(word: str, command: Command) -> None:
    assert read_alert(f"S,{word},EURUSD").commands[0].command is command


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ('{"action": "buy", "symbol": ', "does not parse"),
        ("[1, 2]", "expected SECRET,command,SYMBOL"),
        ('{"symbol": "EURUSD"}', "action"),
        ('{"action": "jump", "symbol": "EURUSD"}', "'jump' is not a command"),
        ("S,buy", "expected SECRET,command,SYMBOL"),
        ("S,buy,EURUSD,risk=lots", "risk= must be a number"),
        ("S,buy,EURUSD,leverage=5", "'leverage=5' is not a parameter"),
        ("S,buylimit,EURUSD", "needs price="),
        ("S,buy,EURUSD,price=1.1", "price= is for"),
        ("S,closelong,EURUSD,risk=1", "takes no volume"),
        ("S,newsltplong,EURUSD", "needs sl= or tp="),
        ("S,buy,EUR USD", "symbol"),
        (
            '{"action": "buy", "symbol": "EURUSD", "volume": 1, "sizing": {"mode": "fixed", "volume": 1}}',
            "one of them",
        ),
        ('{"action": "buy", "symbol": "EURUSD", "sl": 10, "stopLoss": 1.0}', "not both"),
        ("A,buy,EURUSD\nB,sell,EURUSD", "same secret"),
        ("S,buy,EURUSD,risk=nan", "must be a number"),
    ],
)
def test_an_alert_that_cannot_be_read_says_what_is_wrong(body: str, says: str) -> None:
    with pytest.raises(AlertInvalid, match=says):
        read_alert(body)


def test_an_alert_too_long_is_refused() -> None:
    with pytest.raises(AlertInvalid, match="longer than"):
        read_alert("S,buy,EURUSD," + "comment=x," * 3000)


def test_anything_shaped_like_an_issued_secret_is_redacted() -> None:
    assert redact("buy,whsec_abc-DEF_1,EURUSD", None) == "buy,***,EURUSD"
    assert redact('{"secret": "plain"}', "plain") == '{"secret": "***"}'

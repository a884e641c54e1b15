"""Reading an alert, whatever its content type: JSON (as TradingView sends it when the message
parses, else as text/plain), or PineConnector-style lines `SECRET,buy,EURUSD,risk=1,sl=20,tp=40`,
one command a line."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from mtcore.trading import (
    ENTRY_COMMANDS,
    PENDING_COMMANDS,
    SLTP_COMMANDS,
    AlertCommand,
    Command,
)

MAX_BODY_BYTES = 16_384
MAX_LINES = 20
_SYNONYMS = {
    "long": Command.BUY,
    "short": Command.SELL,
    "closelongshort": Command.CLOSE_ALL,
}
# PineConnector parameter -> our field; sl= and tp= are pips.
_PARAMETERS = {
    "risk": "risk",
    "sl": "stop_loss",
    "tp": "take_profit",
    "price": "open_price",
    "comment": "comment",
    "spread": "max_spread_pips",
}
# JSON fields besides the order API's own.
_JSON_EXTRAS = {"action", "secret", "signalId", "sl", "tp", "spread"}


class AlertInvalid(ValueError):
    """What is wrong with an alert, in words its sender can act on."""


@dataclass(frozen=True)
class Alert:
    commands: list[AlertCommand]
    secret: str | None = None
    signal_id: str | None = None
    # What the signal log keeps: the body as received, with the secret taken out.
    redacted: str = ""


def read_alert(body: str) -> Alert:
    """The alert's commands, or AlertInvalid saying what is wrong."""
    if len(body.encode()) > MAX_BODY_BYTES:
        raise AlertInvalid(f"the alert is longer than {MAX_BODY_BYTES} bytes")
    text = body.strip()
    if not text:
        raise AlertInvalid("the alert is empty: send JSON or lines like SECRET,buy,EURUSD,risk=1")
    if text.startswith("{"):
        return _json_alert(text)
    return _line_alert(text)


_ISSUED_SECRET = re.compile(r"whsec_[A-Za-z0-9_-]+")


def redact(text: str, secret: str | None) -> str:
    """The text without `secret` and without anything shaped like a secret this service issues
    (a sender may put the right one in the wrong place, or an old one)."""
    text = text.replace(secret, "***") if secret else text
    return _ISSUED_SECRET.sub("***", text)


def _json_alert(text: str) -> Alert:
    try:
        document = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise AlertInvalid(
            f"the alert looks like JSON but does not parse: {error.msg} at {error.pos}"
        ) from None
    if not isinstance(document, dict):
        raise AlertInvalid("a JSON alert is one object")
    secret = _text_field(document, "secret")
    signal_id = _text_field(document, "signalId")
    if signal_id is not None and not 1 <= len(signal_id) <= 128:
        raise AlertInvalid("signalId: 1 to 128 characters")
    action = document.get("action")
    if not isinstance(action, str):
        raise AlertInvalid('action: say what to do ("buy", "sell", "closelong", …)')
    fields = {name: value for name, value in document.items() if name not in _JSON_EXTRAS}
    fields["command"] = _command(action)
    for pips, level in (("sl", "stopLoss"), ("tp", "takeProfit")):
        if pips in document:
            if level in document:
                raise AlertInvalid(f"send {pips} (pips) or {level}, not both")
            fields[level], fields[f"{level}Units"] = document[pips], "RELATIVE_PIPS"
    if "spread" in document:
        fields["maxSpreadPips"] = document["spread"]
    command = _validated(fields, where="")
    redacted = redact(text, secret)
    return Alert([command], secret=secret, signal_id=signal_id, redacted=redacted)


def _text_field(document: dict[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise AlertInvalid(f"{name}: must be text")
    return value


def _line_alert(text: str) -> Alert:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_LINES:
        raise AlertInvalid(f"at most {MAX_LINES} commands an alert")
    commands: list[AlertCommand] = []
    secrets: list[str] = []
    for number, line in enumerate(lines, start=1):
        parts = [part.strip() for part in line.split(",")]
        where = f"line {number}: " if len(lines) > 1 else ""
        if len(parts) < 3:
            raise AlertInvalid(f"{where}expected SECRET,command,SYMBOL[,name=value…]")
        secrets.append(parts[0])
        fields: dict[str, Any] = {"command": _command(parts[1], where), "symbol": parts[2]}
        for parameter in parts[3:]:
            name, equals, value = parameter.partition("=")
            name = name.strip().lower()
            if not equals or name not in _PARAMETERS:
                known = ", ".join(f"{known}=" for known in _PARAMETERS)
                raise AlertInvalid(f"{where}{parameter!r} is not a parameter this takes ({known})")
            fields[_PARAMETERS[name]] = value.strip() if name == "comment" else _number(value, name, where)
        if "stop_loss" in fields:
            fields["stop_loss_units"] = "RELATIVE_PIPS"
        if "take_profit" in fields:
            fields["take_profit_units"] = "RELATIVE_PIPS"
        commands.append(_validated(fields, where=where))
    if len(set(secrets)) > 1:
        raise AlertInvalid("every line of one alert carries the same secret")
    secret = secrets[0] if secrets else None
    return Alert(commands, secret=secret, redacted=redact(text, secret))


def _command(word: str, where: str = "") -> Command:
    name = word.strip().lower()
    if name in _SYNONYMS:
        return _SYNONYMS[name]
    try:
        return Command(name)
    except ValueError:
        known = ", ".join(sorted({*(c.value for c in Command), *_SYNONYMS}))
        raise AlertInvalid(f"{where}{word!r} is not a command: use one of {known}") from None


def _number(value: str, name: str, where: str) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise AlertInvalid(f"{where}{name}= must be a number, not {value!r}") from None
    if not number.is_finite():
        raise AlertInvalid(f"{where}{name}= must be a number, not {value!r}")
    return number


def _validated(fields: dict[str, Any], *, where: str) -> AlertCommand:
    try:
        command = AlertCommand.model_validate(fields)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'alert'}: {problem['msg']}"
            for problem in error.errors(include_url=False)
        )
        raise AlertInvalid(f"{where}{problems}") from None
    if command.command in PENDING_COMMANDS and command.open_price is None:
        raise AlertInvalid(f"{where}{command.command.value} needs price= (openPrice in JSON)")
    if command.command not in PENDING_COMMANDS and command.open_price is not None:
        raise AlertInvalid(f"{where}price= is for buylimit, selllimit, buystop and sellstop")
    sized = (command.volume, command.sizing, command.risk) != (None, None, None)
    if command.command not in ENTRY_COMMANDS and sized:
        raise AlertInvalid(f"{where}{command.command.value} takes no volume, sizing or risk")
    if command.command in SLTP_COMMANDS and (command.stop_loss, command.take_profit) == (None, None):
        raise AlertInvalid(f"{where}{command.command.value} needs sl= or tp=")
    if sum(value is not None for value in (command.volume, command.sizing, command.risk)) > 1:
        raise AlertInvalid(f"{where}send volume, sizing or risk, one of them")
    return command

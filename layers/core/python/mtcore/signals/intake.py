"""The intake of a webhook's alert: authenticate, read, dedupe, record the signal with one trade
request per account and command, queue them, answer. It never calls MetaApi: what needs the
broker (the account's symbol, the volume from its money, its risk rules) is resolved by the
executor when it reaches each request.

Every request is logged in the webhook's signal log, the refused ones too, with the body as
received and the secret taken out."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from mtcore.ids import new_ulid
from mtcore.metaapi.models import TradeAction
from mtcore.observability import logger, metrics
from mtcore.signals.alerts import MAX_BODY_BYTES, AlertInvalid, read_alert, redact
from mtcore.signals.auth import ip_allowed, secret_matches, signature_problem
from mtcore.signals.models import Outcome, Signal, SignalTarget
from mtcore.signals.repository import SIGNAL_ID_KEEP, Accepted, Refusal
from mtcore.trading import (
    ENTRY_COMMANDS,
    AlertCommand,
    Command,
    SignalOrder,
    TradeKind,
    TradeRequest,
)

if TYPE_CHECKING:
    from mtcore.risk import Sizing
    from mtcore.signals.models import StoredWebhook
    from mtcore.signals.repository import SignalsRepository
    from mtcore.trading import TradeQueue

LOGGED_BODY_CHARACTERS = 4096
UNAUTHORIZED_BODY = {"code": "UNAUTHORIZED", "message": "Unknown webhook or wrong credentials"}
_WEBHOOK_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_JSON_SECRET = re.compile(r'"secret"\s*:\s*"([^"]{1,256})"')
_ACTIONS = {
    Command.BUY: TradeAction.BUY,
    Command.SELL: TradeAction.SELL,
    Command.BUY_LIMIT: TradeAction.BUY_LIMIT,
    Command.SELL_LIMIT: TradeAction.SELL_LIMIT,
    Command.BUY_STOP: TradeAction.BUY_STOP,
    Command.SELL_STOP: TradeAction.SELL_STOP,
    Command.CLOSE_LONG: TradeAction.POSITION_CLOSE_ID,
    Command.CLOSE_SHORT: TradeAction.POSITION_CLOSE_ID,
    Command.CLOSE_ALL: TradeAction.POSITION_CLOSE_ID,
    Command.CANCEL_LONG: TradeAction.ORDER_CANCEL,
    Command.CANCEL_SHORT: TradeAction.ORDER_CANCEL,
    Command.NEW_SLTP_LONG: TradeAction.POSITION_MODIFY,
    Command.NEW_SLTP_SHORT: TradeAction.POSITION_MODIFY,
}


@dataclass(frozen=True)
class Delivery:
    """One POST to a webhook, as API Gateway passed it."""

    webhook_id: str
    body: str
    raw_body: bytes
    content_type: str | None
    source_ip: str | None  # from the request context: the connection's address, never a header
    headers: dict[str, str]  # names in lower case


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def receive(
    delivery: Delivery,
    *,
    signals: SignalsRepository,
    queue: TradeQueue,
    now: datetime | None = None,
) -> Answer:
    now = now or datetime.now(UTC)
    webhook = signals.webhook(delivery.webhook_id) if _WEBHOOK_ID.match(delivery.webhook_id) else None
    if webhook is None:
        logger.warning("alert to an unknown webhook", extra={"webhookId": delivery.webhook_id[:64]})
        metrics.add_metric(name="SignalsUnauthorized", unit=MetricUnit.Count, value=1)
        return Answer(401, UNAUTHORIZED_BODY)
    log = _Log(webhook, delivery, now, signals)
    try:
        alert = read_alert(delivery.body)
        problem = None
    except AlertInvalid as invalid:
        alert, problem = None, str(invalid)
    header_secret = delivery.headers.get("x-webhook-secret")
    body_secret = alert.secret if alert else _loose_secret(delivery.body)
    secret = header_secret or body_secret
    log.secrets = [given for given in (header_secret, body_secret) if given]
    refused = _unauthenticated(webhook, delivery, secret, now)
    if refused is not None:
        log.write(Outcome.UNAUTHORIZED, refused)
        metrics.add_metric(name="SignalsUnauthorized", unit=MetricUnit.Count, value=1)
        return Answer(401, UNAUTHORIZED_BODY)
    if alert is None:
        signal = log.write(Outcome.INVALID, problem)
        return Answer(422, {"code": "INVALID_ALERT", "message": problem, "signalId": signal.id})
    signal = log.signal(Outcome.SHADOW if webhook.shadow else Outcome.ACCEPTED, None)
    signal.signal_id, signal.commands = alert.signal_id, alert.commands
    trades = _targets(webhook, signal, now)
    if not trades:
        signal.outcome, signal.reason = (
            Outcome.REJECTED,
            "; ".join(sorted({target.refused or "" for target in signal.targets})),
        )
        signals.put_signal(signal)
        return Answer(422, {"code": "SIGNAL_REJECTED", "message": signal.reason, **_summary(signal)})
    dedupe_key, until = _dedupe(webhook, alert.signal_id, alert.commands, now)
    accepted = Accepted(
        signal=signal,
        dedupe_key=dedupe_key,
        dedupe_until=until,
        minute=int(now.timestamp() // 60),
        rate_limit=webhook.rate_limit_per_minute,
        trades=trades,
    )
    refusal = signals.accept(accepted)
    if refusal is Refusal.RATE_LIMITED:
        wait = 60 - int(now.timestamp()) % 60
        log.write(Outcome.RATE_LIMITED, f"over {webhook.rate_limit_per_minute} alerts a minute")
        metrics.add_metric(name="SignalsRateLimited", unit=MetricUnit.Count, value=1)
        body = {"code": "RATE_LIMITED", "message": f"Over {webhook.rate_limit_per_minute} alerts a minute"}
        return Answer(429, body, {"Retry-After": str(wait)})
    if refusal is Refusal.DUPLICATE:
        first = signals.duplicate_of(webhook.id, dedupe_key)
        why = (
            "its signalId was seen before"
            if alert.signal_id
            else "the same alert came within the dedupe window"
        )
        duplicate = log.signal(Outcome.DUPLICATE, why)
        duplicate.duplicate_of, duplicate.signal_id, duplicate.commands = (
            first,
            alert.signal_id,
            alert.commands,
        )
        signals.put_signal(duplicate)
        metrics.add_metric(name="SignalsDuplicate", unit=MetricUnit.Count, value=1)
        return Answer(
            200, {"signalId": duplicate.id, "outcome": Outcome.DUPLICATE.value, "duplicateOf": first}
        )
    if not queue.send_all(trades):
        logger.warning("signal's trades not queued; the sweeper sends them", extra={"signalId": signal.id})
        metrics.add_metric(name="TradeSendsDeferred", unit=MetricUnit.Count, value=1)
    logger.info(
        "signal accepted", extra={"webhookId": webhook.id, "signalId": signal.id, "trades": len(trades)}
    )
    metrics.add_metric(name="SignalsAccepted", unit=MetricUnit.Count, value=1)
    return Answer(202, _summary(signal))


@dataclass
class _Log:
    webhook: StoredWebhook
    delivery: Delivery
    now: datetime
    signals: SignalsRepository
    secrets: list[str] = field(default_factory=list)  # every secret the request carried, right or wrong

    def signal(self, outcome: Outcome, reason: str | None) -> Signal:
        body = self.delivery.body
        for secret in self.secrets:
            body = redact(body, secret)
        body = redact(body, None)
        if len(body) > LOGGED_BODY_CHARACTERS:
            body = body[:LOGGED_BODY_CHARACTERS] + f"… ({len(self.delivery.body)} characters in all)"
        return Signal(
            id=new_ulid(),
            webhook_id=self.webhook.id,
            received_at=self.now,
            source_ip=self.delivery.source_ip,
            content_type=self.delivery.content_type,
            body=body,
            outcome=outcome,
            reason=reason,
        )

    def write(self, outcome: Outcome, reason: str | None) -> Signal:
        signal = self.signal(outcome, reason)
        self.signals.put_signal(signal)
        logger.info(
            "signal refused",
            extra={"webhookId": self.webhook.id, "signalId": signal.id, "outcome": outcome.value},
        )
        return signal


def _loose_secret(body: str) -> str | None:
    """The secret of an alert that could not be read, to tell its owner what is wrong with it."""
    found = _JSON_SECRET.search(body[:MAX_BODY_BYTES])
    if found:
        return found.group(1)
    first = body.strip().split(",", 1)[0].strip()
    return first or None


def _unauthenticated(
    webhook: StoredWebhook, delivery: Delivery, secret: str | None, now: datetime
) -> str | None:
    """Why the request is refused (for the owner's log only), or None."""
    if not ip_allowed(webhook.auth, delivery.source_ip):
        return f"source address {delivery.source_ip} is not allowed"
    if not secret_matches(secret, webhook.secret_digest):
        return "wrong or missing secret"
    assert secret is not None
    return signature_problem(
        webhook.auth,
        secret,
        signature=delivery.headers.get("x-signature"),
        timestamp=delivery.headers.get("x-timestamp"),
        body=delivery.raw_body,
        now=now.timestamp(),
    )


def _sizing(webhook: StoredWebhook, command: AlertCommand) -> Sizing | None:
    """An entry's sizing: the alert's volume or sizing, else the webhook's, with risk= read as
    the webhook's mode's number (lots, percent or money)."""
    from mtcore.risk import FixedSizing

    if command.command not in ENTRY_COMMANDS:
        return None
    if command.volume is not None:
        return FixedSizing(mode="fixed", volume=command.volume)
    if command.sizing is not None:
        return command.sizing
    if command.risk is None:
        return webhook.sizing
    number = {"fixed": "volume", "risk_percent": "percent", "margin_percent": "percent"}.get(
        webhook.sizing.mode, "amount"
    )
    return webhook.sizing.model_copy(update={number: command.risk})


def _resolved(webhook: StoredWebhook, command: AlertCommand) -> AlertCommand:
    changes: dict[str, Any] = {"sizing": _sizing(webhook, command), "volume": None, "risk": None}
    if command.command in ENTRY_COMMANDS:
        if command.stop_loss is None and webhook.stop_loss is not None:
            changes |= {"stop_loss": webhook.stop_loss, "stop_loss_units": webhook.stop_loss_units}
        if command.take_profit is None and webhook.take_profit is not None:
            changes |= {"take_profit": webhook.take_profit, "take_profit_units": webhook.take_profit_units}
    return command.model_copy(update=changes)


def _targets(webhook: StoredWebhook, signal: Signal, now: datetime) -> list[TradeRequest]:
    """One trade request per account and command; a command for a symbol the webhook does not
    take is refused for every account."""
    trades: list[TradeRequest] = []
    allowed = {symbol.upper() for symbol in webhook.allowed_symbols} if webhook.allowed_symbols else None
    for command in signal.commands:
        refused = (
            f"{command.symbol} is not among the webhook's allowed symbols"
            if allowed is not None and command.symbol.upper() not in allowed
            else None
        )
        order = SignalOrder(
            webhook_id=webhook.id,
            signal_id=signal.id,
            command=_resolved(webhook, command),
            symbol_map=webhook.symbol_map,
            pyramiding=webhook.pyramiding,
            close_opposite=webhook.close_opposite,
            shadow=webhook.shadow,
        )
        for account_id in webhook.account_ids:
            target = SignalTarget(account_id=account_id, command=command.command, symbol=command.symbol)
            signal.targets.append(target)
            if refused:
                target.refused = refused
                continue
            trade = TradeRequest(
                id=new_ulid(),
                account_id=account_id,
                user_id=webhook.user_id,
                kind=TradeKind.SIGNAL,
                action=_ACTIONS[command.command],
                symbol=command.symbol,
                comment=command.comment,
                signal=order,
                created_at=now,
                updated_at=now,
            )
            target.trade_id, target.status = trade.id, trade.status.value
            trades.append(trade)
    return trades


def _dedupe(
    webhook: StoredWebhook, signal_id: str | None, commands: list[AlertCommand], now: datetime
) -> tuple[str, datetime]:
    """The sender's signalId, kept as long as the log; else the alert's fingerprint, kept for
    the webhook's window."""
    if signal_id is not None:
        return "ID#" + hashlib.sha256(signal_id.encode()).hexdigest(), now + SIGNAL_ID_KEEP
    normalized = json.dumps(
        [command.model_dump(mode="json") | {"symbol": command.symbol.upper()} for command in commands],
        sort_keys=True,
    )
    fingerprint = hashlib.sha256(normalized.encode()).hexdigest()
    return "FP#" + fingerprint, now + timedelta(seconds=webhook.dedupe_window_seconds)


def _summary(signal: Signal) -> dict[str, Any]:
    return {
        "signalId": signal.id,
        "outcome": signal.outcome.value,
        "accounts": [
            target.model_dump(
                mode="json",
                include={"account_id", "command", "symbol", "trade_id", "refused", "status"},
                exclude_none=True,
            )
            for target in signal.targets
        ],
    }

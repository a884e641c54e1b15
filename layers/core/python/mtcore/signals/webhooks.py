"""A trader's webhooks: created with a secret shown once, changed, rotated, removed; and their
signal log, each signal with its trades' status as they are now."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mtcore.ids import new_ulid
from mtcore.signals.auth import new_secret, secret_digest
from mtcore.signals.models import (
    NewWebhook,
    Outcome,
    Signal,
    SignalPage,
    StoredWebhook,
    Webhook,
    WebhookSettings,
)

if TYPE_CHECKING:
    from mtcore.accounts import AccountsRepository
    from mtcore.signals.repository import SignalsRepository
    from mtcore.trading import TradesRepository

INTAKE_PATH = "/api/webhooks/{id}"


def _owned_accounts(user_id: str, settings: WebhookSettings, accounts: AccountsRepository) -> None:
    """Every account named is the caller's (another's is a 404, as everywhere)."""
    for account_id in settings.account_ids:
        accounts.get(user_id, account_id)


def _public(webhook: StoredWebhook, base_url: str) -> Webhook:
    shown = Webhook.model_validate(webhook.model_dump(exclude={"user_id", "secret_digest"}))
    shown.url = base_url + INTAKE_PATH.format(id=webhook.id)
    return shown


def create(
    user_id: str,
    settings: WebhookSettings,
    *,
    base_url: str,
    accounts: AccountsRepository,
    webhooks: SignalsRepository,
) -> NewWebhook:
    _owned_accounts(user_id, settings, accounts)
    now, secret = datetime.now(UTC), new_secret()
    stored = StoredWebhook(
        **settings.model_dump(),
        id=new_ulid(),
        user_id=user_id,
        secret_digest=secret_digest(secret),
        created_at=now,
        updated_at=now,
        secret_rotated_at=now,
    )
    webhooks.put_webhook(stored, new=True)
    return NewWebhook(**_public(stored, base_url).model_dump(), secret=secret)


def update(
    user_id: str,
    webhook_id: str,
    settings: WebhookSettings,
    *,
    base_url: str,
    accounts: AccountsRepository,
    webhooks: SignalsRepository,
) -> Webhook:
    current = webhooks.owned_webhook(user_id, webhook_id)
    _owned_accounts(user_id, settings, accounts)
    changed = StoredWebhook(
        **settings.model_dump(),
        id=current.id,
        user_id=user_id,
        secret_digest=current.secret_digest,
        created_at=current.created_at,
        updated_at=datetime.now(UTC),
        secret_rotated_at=current.secret_rotated_at,
    )
    webhooks.put_webhook(changed, new=False)
    return _public(changed, base_url)


def rotate_secret(user_id: str, webhook_id: str, *, base_url: str, webhooks: SignalsRepository) -> NewWebhook:
    """A new secret; the old one stops working at once."""
    current = webhooks.owned_webhook(user_id, webhook_id)
    now, secret = datetime.now(UTC), new_secret()
    rotated = current.model_copy(
        update={"secret_digest": secret_digest(secret), "secret_rotated_at": now, "updated_at": now}
    )
    webhooks.put_webhook(rotated, new=False)
    return NewWebhook(**_public(rotated, base_url).model_dump(), secret=secret)


def get(user_id: str, webhook_id: str, *, base_url: str, webhooks: SignalsRepository) -> Webhook:
    return _public(webhooks.owned_webhook(user_id, webhook_id), base_url)


def list_all(user_id: str, *, base_url: str, webhooks: SignalsRepository) -> list[Webhook]:
    return [_public(webhook, base_url) for webhook in webhooks.webhooks_of(user_id)]


def delete(user_id: str, webhook_id: str, *, webhooks: SignalsRepository) -> None:
    """Alerts to it are refused from now on; its signal log expires with its TTL."""
    webhooks.delete_webhook(webhooks.owned_webhook(user_id, webhook_id))


def signals(
    user_id: str,
    webhook_id: str,
    *,
    limit: int,
    next_token: str | None,
    webhooks: SignalsRepository,
    trades: TradesRepository,
) -> SignalPage:
    webhooks.owned_webhook(user_id, webhook_id)
    items, token = webhooks.signals(webhook_id, limit=limit, next_token=next_token)
    return SignalPage(items=[_with_trades(signal, trades) for signal in items], next_token=token)


def signal(
    user_id: str, webhook_id: str, signal_id: str, *, webhooks: SignalsRepository, trades: TradesRepository
) -> Signal:
    webhooks.owned_webhook(user_id, webhook_id)
    return _with_trades(webhooks.signal(webhook_id, signal_id), trades)


def _with_trades(signal: Signal, trades: TradesRepository) -> Signal:
    """Each account's trade as it stands now: the symbol it was mapped to, its status and why,
    what it sent (or in shadow mode would have sent)."""
    for target in signal.targets:
        if target.trade_id is None:
            continue
        request = trades.find(target.account_id, target.trade_id)
        if request is None:
            continue
        target.status, target.reason, target.code = request.status.value, request.reason, request.code
        target.symbol = request.symbol or target.symbol
        target.volume, target.stop_loss, target.take_profit = (
            request.volume,
            request.stop_loss,
            request.take_profit,
        )
        target.children = request.children
    _settled_outcome(signal)
    return signal


def _settled_outcome(signal: Signal) -> None:
    """An accepted signal every account ignored (or refused) says so."""
    from mtcore.signals.dispatch import IGNORED_CODES

    if signal.outcome is not Outcome.ACCEPTED or not signal.targets:
        return
    if all(target.code in IGNORED_CODES for target in signal.targets):
        signal.outcome = Outcome.IGNORED
    elif all(
        target.refused or target.status in ("REJECTED", "EXPIRED", "CANCELED") for target in signal.targets
    ):
        signal.outcome = Outcome.REJECTED

"""A MetaTrader password on its way to MetaApi: one secret per account being created, kept only
until MetaApi has the password, then deleted (on success and on failure alike).

The password never reaches DynamoDB, a queue message, an event, a log line or an answer: the API
puts it here, the provisioning worker reads it for MetaApi's create call and deletes it."""

from __future__ import annotations

from mtcore.aws import secretsmanager_client
from mtcore.secrets import SecretStore
from mtcore.settings import get_settings


class PendingPasswords:
    def __init__(self, secrets: SecretStore, prefix: str) -> None:
        self._secrets = secrets
        self._prefix = prefix.rstrip("/")

    def secret_name(self, account_id: str) -> str:
        return f"{self._prefix}/{account_id}/password"

    def put(self, account_id: str, password: str) -> None:
        """Store it (a repeat of the call replaces it)."""
        self._secrets.put(
            self.secret_name(account_id),
            password,
            description="A MetaTrader password until MetaApi has it; deleted right after",
        )

    def get(self, account_id: str) -> str | None:
        return self._secrets.read(self.secret_name(account_id))

    def delete(self, account_id: str) -> None:
        self._secrets.delete(self.secret_name(account_id))


def get_pending_passwords() -> PendingPasswords:
    # Never kept: each step reads what is stored now.
    return PendingPasswords(
        SecretStore(secretsmanager_client(), kept_s=0), get_settings().pending_password_prefix
    )

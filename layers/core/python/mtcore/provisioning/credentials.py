"""A MetaTrader password on its way to MetaApi: one secret per account being created, kept only
until MetaApi has the password, then deleted (on success and on failure alike).

The password never reaches DynamoDB, a queue message, an event, a log line or an answer: the API
puts it here, the provisioning worker reads it for MetaApi's create call and deletes it."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from mtcore.aws import secretsmanager_client
from mtcore.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


class PendingPasswords:
    def __init__(self, client: SecretsManagerClient, prefix: str) -> None:
        self._client = client
        self._prefix = prefix.rstrip("/")

    def secret_name(self, account_id: str) -> str:
        return f"{self._prefix}/{account_id}/password"

    def put(self, account_id: str, password: str) -> None:
        """Store it (a repeat of the call replaces it)."""
        name = self.secret_name(account_id)
        try:
            self._client.create_secret(
                Name=name,
                SecretString=password,
                Description="A MetaTrader password until MetaApi has it; deleted right after",
            )
        except self._client.exceptions.ResourceExistsException:
            self._client.put_secret_value(SecretId=name, SecretString=password)

    def get(self, account_id: str) -> str | None:
        try:
            answer = self._client.get_secret_value(SecretId=self.secret_name(account_id))
        except self._client.exceptions.ResourceNotFoundException:
            return None
        return answer.get("SecretString")

    def delete(self, account_id: str) -> None:
        """Gone at once, with no recovery window; deleting one already gone is fine."""
        with contextlib.suppress(self._client.exceptions.ResourceNotFoundException):
            self._client.delete_secret(SecretId=self.secret_name(account_id), ForceDeleteWithoutRecovery=True)


def get_pending_passwords() -> PendingPasswords:
    return PendingPasswords(secretsmanager_client(), get_settings().pending_password_prefix)

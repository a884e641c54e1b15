"""Secrets Manager as the functions use it: reads kept a while per container (a secret that is not
there too, so a user without a stored token costs no call per request), writes that create or
replace, and deletes at once.

Values only ever go back to the code that needs them: never logged, stored elsewhere or answered."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


class SecretStore:
    def __init__(
        self, client: SecretsManagerClient, *, kept_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._kept_s = kept_s
        self._clock = clock
        self._cache: dict[str, tuple[str | None, float]] = {}

    def read(self, secret_id: str) -> str | None:
        """Its value; None when it is not there (or empty)."""
        cached = self._cache.get(secret_id)
        if cached and self._clock() - cached[1] < self._kept_s:
            return cached[0]
        try:
            value = self._client.get_secret_value(SecretId=secret_id).get("SecretString") or None
        except self._client.exceptions.ResourceNotFoundException:
            value = None
        self._cache[secret_id] = (value, self._clock())
        return value

    def put(self, name: str, value: str, *, description: str) -> None:
        """Store it, created or replaced."""
        try:
            self._client.create_secret(Name=name, SecretString=value, Description=description)
        except self._client.exceptions.ResourceExistsException:
            self._client.put_secret_value(SecretId=name, SecretString=value)
        self._cache[name] = (value, self._clock())

    def delete(self, name: str) -> None:
        """Gone at once, with no recovery window (a new one may be stored right away); deleting
        one already gone is fine."""
        with contextlib.suppress(self._client.exceptions.ResourceNotFoundException):
            self._client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        self._cache[name] = (None, self._clock())

"""What the provisioning worker needs from MetaApi's provisioning API, and how long it waits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mtcore.metaapi.models import CreatedAccount, RemoteAccount


@dataclass(frozen=True)
class Pending:
    """MetaApi took the call and is still working on it: ask again after `retry_after_s`."""

    retry_after_s: float
    message: str


class Provisioner(Protocol):
    """MetaApi's provisioning calls for one token; errors are `mtcore.metaapi.errors`."""

    def create(self, body: dict[str, Any], *, transaction_id: str) -> CreatedAccount | Pending: ...

    def get(self, metaapi_id: str) -> RemoteAccount: ...

    def deploy(self, metaapi_id: str) -> None: ...

    def undeploy(self, metaapi_id: str) -> None: ...

    def redeploy(self, metaapi_id: str) -> None: ...

    def remove(self, metaapi_id: str) -> None: ...


@dataclass(frozen=True)
class ProvisioningPolicy:
    # MetaApi's own limit for detecting a broker's settings is ten minutes.
    create_timeout: timedelta = timedelta(minutes=15)
    connect_timeout: timedelta = timedelta(minutes=10)
    undeploy_timeout: timedelta = timedelta(minutes=10)
    # A draft is watched this long for its credentials after each configuration link.
    draft_watch: timedelta = timedelta(minutes=30)
    # The API sends an operation's message before it writes the operation: this long, a message
    # whose operation is not written yet waits for it.
    unwritten_grace: timedelta = timedelta(minutes=1)
    # Waits between looks grow from the first to the last (each look is a receive of the message).
    first_wait_s: float = 1.0
    max_wait_s: float = 30.0
    max_draft_wait_s: float = 60.0

    def wait(self, looks: int, *, longest: float | None = None) -> float:
        """The wait before the next look, after `looks` looks: 1, 1.5, 2.3 … seconds, capped."""
        return min(longest or self.max_wait_s, self.first_wait_s * 1.5 ** max(0, looks))

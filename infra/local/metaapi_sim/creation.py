"""Creating an account as MetaApi does: 202 while broker settings are detected, then one outcome for
good, and the regions accounts may be created in."""

from __future__ import annotations

import math
from dataclasses import dataclass

from infra.local.metaapi_sim.accounts import Account
from infra.local.metaapi_sim.errors import ApiError
from infra.local.metaapi_sim.provisioning import NewAccount

REGIONS = ("london", "new-york", "singapore", "vint-hill")
UNKNOWN_SERVER_PREFIX = "unknown"  # the simulator's way to play a server MetaApi has no file for


@dataclass
class Creation:
    """A create-account transaction: 202 until `ready_at` (wall clock), then refused or opened once."""

    request: NewAccount
    ready_at: float
    refusal: ApiError | None = None
    # Kept after a delete, so the transaction still answers the id and the state it had last.
    account: Account | None = None

    @property
    def decided(self) -> bool:
        return self.refusal is not None or self.account is not None


def retry_after(seconds_left: float) -> int:
    """Whole seconds, at least 1: a client reads 0 as "do not retry"."""
    return max(1, math.ceil(seconds_left))


def detection_message(seconds: int) -> str:
    return f"Automatic broker settings detection is in progress, please retry in {seconds} seconds"


def refusal(request: NewAccount, quota: int | None, in_region: int) -> ApiError | None:
    """Why the broker or MetaApi refuses the account, if they do. `in_region`: accounts there now."""
    if request.credentials_rejected:
        return ApiError(
            400, "Failed to authenticate to the broker with the login and password", details="E_AUTH"
        )
    if request.server is not None and request.server.lower().startswith(UNKNOWN_SERVER_PREFIX):
        return ApiError(
            400,
            f"Server file not found for server {request.server}: check the server name",
            details="E_SRV_NOT_FOUND",
        )
    if quota is not None and in_region >= quota:
        region = request.region
        return ApiError(
            400,
            f"Unable to create an account in {region} because the quota of {quota} accounts in {region} "
            "has been reached. Please contact support in order to extend your quota.",
            error="QuotaExceededError",
            metadata={"quota": quota, "type": "maxAccounts", "region": region},
        )
    return None


def region_ids(quotas: dict[str, int | None]) -> list[str]:
    """MetaApi's regions, and any other a quota was set for."""
    return sorted({*REGIONS, *quotas})

"""Who may send a webhook's alerts: its secret (only its digest is stored), and per webhook an
IP allow list and a signature over the body with a timestamp."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from functools import lru_cache
from typing import TYPE_CHECKING

from mtcore.signals.models import TRADINGVIEW, TRADINGVIEW_IPS

if TYPE_CHECKING:
    from mtcore.signals.models import WebhookAuth

SECRET_PREFIX = "whsec_"  # noqa: S105 - the marker of a webhook secret, not one


def new_secret() -> str:
    """192 random bits: guessing one is out of reach, so a plain digest is enough to store."""
    return SECRET_PREFIX + secrets.token_urlsafe(24)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(given: str | None, digest: str) -> bool:
    """Constant time whatever was given, so timing tells nothing about the stored digest."""
    candidate = secret_digest(given or "")
    return hmac.compare_digest(candidate, digest) and given is not None


@lru_cache(maxsize=256)
def _networks(allowed: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in allowed)


def ip_allowed(auth: WebhookAuth, source_ip: str | None) -> bool:
    if auth.allowed_ips is None:
        return True
    if source_ip is None:
        return False
    allowed = TRADINGVIEW_IPS if auth.allowed_ips == TRADINGVIEW else tuple(auth.allowed_ips)
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return False
    return any(address in network for network in _networks(allowed))


def signature_of(secret: str, timestamp: str, body: bytes) -> str:
    """What a signing sender puts in X-Signature."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_problem(
    auth: WebhookAuth, secret: str, *, signature: str | None, timestamp: str | None, body: bytes, now: float
) -> str | None:
    """Why the request's signature does not hold, or None when it does (or none is required)."""
    if not auth.hmac:
        return None
    if not signature or not timestamp:
        return "X-Signature and X-Timestamp are required"
    try:
        sent_at = float(timestamp)
    except ValueError:
        return "X-Timestamp is not a Unix time in seconds"
    if abs(now - sent_at) > auth.max_age_seconds:
        return f"X-Timestamp is more than {auth.max_age_seconds} s away from now"
    if not hmac.compare_digest(signature_of(secret, timestamp, body), signature.strip().lower()):
        return "X-Signature does not match the body"
    return None

"""Webhook senders: the secret, the IP allow list, the signature."""

from __future__ import annotations

import time

from mtcore.signals.auth import (
    ip_allowed,
    new_secret,
    secret_digest,
    secret_matches,
    signature_of,
    signature_problem,
)
from mtcore.signals.models import WebhookAuth


def test_a_secret_has_at_least_128_random_bits_and_only_its_digest_is_kept() -> None:
    secret = new_secret()
    assert len(secret.removeprefix("whsec_")) * 6 >= 128
    assert new_secret() != secret
    digest = secret_digest(secret)
    assert secret not in digest
    assert secret_matches(secret, digest)
    assert not secret_matches(secret + "x", digest)
    assert not secret_matches(None, digest)
    assert not secret_matches("", digest)


def test_tradingview_means_its_four_addresses() -> None:
    auth = WebhookAuth(allowed_ips="tradingview")
    for address in ("52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7"):
        assert ip_allowed(auth, address)
    assert not ip_allowed(auth, "52.89.214.239")
    assert not ip_allowed(auth, None)


def test_addresses_and_ranges() -> None:
    auth = WebhookAuth(allowed_ips=["10.0.0.0/8", "192.0.2.7"])
    assert ip_allowed(auth, "10.1.2.3")
    assert ip_allowed(auth, "192.0.2.7")
    assert not ip_allowed(auth, "192.0.2.8")
    assert not ip_allowed(auth, "not-an-ip")
    assert ip_allowed(WebhookAuth(), "203.0.113.9")  # no list: any address


def test_a_signature_is_checked_with_its_timestamp() -> None:
    auth = WebhookAuth(hmac=True, max_age_seconds=30)
    body, now = b'{"action":"buy"}', time.time()
    stamp = str(int(now))
    good = signature_of("k", stamp, body)
    assert signature_problem(auth, "k", signature=good, timestamp=stamp, body=body, now=now) is None
    assert "does not match" in str(
        signature_problem(auth, "k", signature=good, timestamp=stamp, body=body + b" ", now=now)
    )
    stale = str(int(now) - 31)
    old = signature_of("k", stale, body)
    assert "more than 30 s" in str(
        signature_problem(auth, "k", signature=old, timestamp=stale, body=body, now=now)
    )
    assert "required" in str(
        signature_problem(auth, "k", signature=None, timestamp=stamp, body=body, now=now)
    )
    assert signature_problem(WebhookAuth(), "k", signature=None, timestamp=None, body=body, now=now) is None

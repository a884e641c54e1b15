"""A Lambda container caches settings, clients, tokens and market data; tests and the bench
start a new one by forgetting them."""

from __future__ import annotations


def new_container() -> None:
    from mtcore.accounts.access import get_metaapi_access
    from mtcore.accounts.tokens import get_tokens
    from mtcore.aws import reset_clients
    from mtcore.market.cache import get_market_cache
    from mtcore.realtime.auth import get_token_verifier
    from mtcore.settings import get_settings

    for cache in (get_settings, get_tokens, get_metaapi_access, get_market_cache, get_token_verifier):
        cache.cache_clear()
    reset_clients()

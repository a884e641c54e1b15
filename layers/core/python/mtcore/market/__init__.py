"""Market data: symbols, specifications and quotes, and what each container caches of them."""

from mtcore.market.cache import MarketCache, get_market_cache

__all__ = ["MarketCache", "get_market_cache"]

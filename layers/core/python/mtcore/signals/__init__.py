"""Webhook signals: TradingView, PineConnector-style and other alerts become trades on one or
many accounts. The intake (`intake`) only authenticates, dedupes, records and queues; each
account's part is resolved by the executor (`dispatch`) with the broker's state then."""

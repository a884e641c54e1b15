"""Sync: scheduled and requested account syncs with the broker, history imports, the account audit
after a full sync, and the account events read from the table stream."""

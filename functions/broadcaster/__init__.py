"""Pushes the bus's trade, position, order, account, sync and risk events to their owners'
WebSocket connections."""

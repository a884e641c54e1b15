"""Scheduled: re-enqueues trade requests that are due again or whose message was lost."""

"""Publishes each account's daily summary at its broker's day end (an hourly schedule)."""

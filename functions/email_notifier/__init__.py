"""Delivers the bus's events to their owners by email."""

"""Publishes trade events from the table's stream to the event bus."""

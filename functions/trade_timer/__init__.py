"""Hands parked trades back to the order queue when they are due."""

"""The webhook intake: alerts in, trade requests queued."""

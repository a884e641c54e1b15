"""Consumes the FIFO order queue and takes each trade request to a final status."""

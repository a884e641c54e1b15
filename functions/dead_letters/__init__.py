"""Consumes the order queue's dead letters and concludes each trade from broker truth."""

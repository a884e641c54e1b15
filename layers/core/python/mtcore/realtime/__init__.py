"""Real-time pushes to the dashboard: WebSocket connections and their subscriptions
(connections.py, sessions.py), who may connect (auth.py), the bus's events as frames to their
owners (broadcast.py), kept 24 hours for clients that were away (event_log.py), live prices while
someone watches them (pump.py), all sent through API Gateway's management API (push.py)."""

"""The dashboard's WebSocket connections: opened, closed, and the client's actions (subscribe,
unsubscribe, ping), as API Gateway's WebSocket API hands them over."""

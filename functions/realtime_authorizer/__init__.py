"""Lets a WebSocket connection in when its `?token=` is a valid Cognito ID token."""

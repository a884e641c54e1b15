"""A small stateless client for MetaApi's REST API: the hot path's only way to MetaApi.

One pooled HTTP connection manager per container, explicit timeouts, a deadline per call, typed
errors. Reads retry with backoff inside their deadline; `POST /trade` never retries by itself.
"""

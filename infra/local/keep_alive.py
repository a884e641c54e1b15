"""HTTP keep-alive for the local stack's servers (moto, the API gateway, the MetaApi simulator).

Werkzeug's development server closes every connection after one answer, so each boto3 call to
moto, each MetaApi call to the simulator and each API request opened a new TCP connection and a
new server thread: most of a local order's time went there. AWS and MetaApi keep connections
open, and so does this handler for every request whose body has a known length: the application
and werkzeug's end-of-request drain see that body and nothing past it, so the next request on
the connection is left for the next read. A chunked request still closes its connection."""

from __future__ import annotations

from io import BufferedIOBase

from werkzeug.serving import WSGIRequestHandler


class _BodyOnly:
    """The connection's reader, limited to one request's body."""

    def __init__(self, stream: BufferedIOBase, length: int) -> None:
        self._stream = stream
        self._left = length

    def read(self, size: int | None = -1) -> bytes:
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._stream.read(size) if size else b""
        self._left -= len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._stream.readline(size) if size else b""
        self._left -= len(data)
        return data


class KeepAliveRequestHandler(WSGIRequestHandler):
    """Answers with `Connection: close` only to a request whose end it cannot know."""

    # Headers and body leave in separate writes; with Nagle's algorithm on a kept connection
    # the body would wait for the client's delayed acknowledgement of the headers (~40 ms).
    disable_nagle_algorithm = True
    _keep_open = False

    def send_header(self, keyword: str, value: str) -> None:
        if self._keep_open and keyword.lower() == "connection" and value.lower() == "close":
            return
        super().send_header(keyword, value)

    def run_wsgi(self) -> None:
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        self._keep_open = not chunked
        if chunked:
            super().run_wsgi()
            return
        connection = self.rfile
        body = _BodyOnly(connection, int(self.headers.get("Content-Length") or 0))
        self.rfile = body  # type: ignore[assignment]
        try:
            super().run_wsgi()
            if not self.close_connection:
                body.read()  # what the application left unread is not the next request
        finally:
            self.rfile = connection

"""Serve a WSGI app on a real loopback socket (127.0.0.1, free port) for the duration of a test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    """Skip per-request access logging."""

    def log_request(self, code="-", size="-") -> None:
        """Log nothing for a served request."""


@contextmanager
def serve(wsgi_app) -> Iterator[str]:
    """Yield the server's base URL (http://127.0.0.1:PORT); stop and close it afterwards."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()

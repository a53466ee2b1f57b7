"""Serve a Flask app on a real loopback port in a thread (for tests that need real HTTP)."""

from __future__ import annotations

import socket
import threading

from flask import Flask
from werkzeug.serving import make_server


class LiveServer:
    """A threaded werkzeug server on 127.0.0.1 and a free port, as a context manager."""

    def __init__(self, app: Flask, port: int = 0):
        self.app = app
        self.port = port
        self._server = None
        self._thread = None

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:54321."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> LiveServer:
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def free_port() -> int:
    """A loopback port free now, for a server whose URL must be known before it starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

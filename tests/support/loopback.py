"""A plain http.server handler served on a real loopback port, for tests of outbound calls."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[ThreadingHTTPServer]:
    """Serve the handler on 127.0.0.1 and a free port in a thread; stop and close it afterwards."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class FhirHandler(BaseHTTPRequestHandler):
    """A quiet handler with a helper to answer FHIR JSON (subclasses write do_GET)."""

    def send_fhir(self, status: int, body: bytes) -> None:
        """Answer with a FHIR JSON body."""
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        """Stay quiet."""

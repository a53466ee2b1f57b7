"""A misbehaving FHIR server on loopback: the first path segment of fhirServer picks the fault.

`http://127.0.0.1:<port>/<fault>` answers every FHIR query under it with that fault: `ok` (a
small valid Bundle), `slow` (nothing for a long time), `drip` (headers, then one byte at a time),
`huge` (a valid 50 MB Bundle), `redirect` (302 to `redirect_to`), `reset` (connection dropped),
`garbage` (200 with bytes that are not JSON), `paging` (next links without end), `odd-bundle`
(a searchset whose entry is a number, its links a number and a link without a URL). The server
counts the body bytes it managed to send, the requests it saw and when dripping stopped.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HUGE_BYTES = 50 * 1024 * 1024
DRIP_SECONDS = 0.2
SLOW_SECONDS = 30.0
STREAM_CHUNK = 64 * 1024


class FaultServer:
    """A threaded http.server on 127.0.0.1 and a free port, as a context manager."""

    def __init__(self, redirect_to: str = "http://127.0.0.1:9/"):
        self.redirect_to = redirect_to
        self.requests_seen: list[tuple[str, bool]] = []  # (path, had a bearer token)
        self.bytes_sent: dict[str, int] = {}
        self.drip_ended_at: list[float] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, fault: str) -> str:
        """The fhirServer base URL that answers with a fault."""
        return f"http://127.0.0.1:{self._server.server_port}/{fault}"

    @property
    def netloc(self) -> str:
        """host:port of this server."""
        return f"127.0.0.1:{self._server.server_port}"

    def sent(self, fault: str) -> int:
        """Body bytes written for a fault so far."""
        with self._lock:
            return self.bytes_sent.get(fault, 0)

    def seen(self, fault: str) -> list[str]:
        """Paths requested under a fault."""
        with self._lock:
            return [path for path, _ in self.requests_seen if path.startswith(f"/{fault}/")]

    def record(self, path: str, had_token: bool) -> None:
        """Note one request."""
        with self._lock:
            self.requests_seen.append((path, had_token))

    def count(self, fault: str, size: int) -> None:
        """Note body bytes written."""
        with self._lock:
            self.bytes_sent[fault] = self.bytes_sent.get(fault, 0) + size

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def handler_for(faults: FaultServer) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one FaultServer."""

    class FaultHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Keep test output quiet."""

        def do_GET(self) -> None:
            """Answer with the fault the first path segment names."""
            fault = self.path.split("/")[1]
            faults.record(self.path, self.headers.get("Authorization", "").startswith("Bearer "))
            answer = ANSWERS.get(fault, answer_ok)
            # a client that gives up mid-answer is what the tests look for
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                answer(self, faults, fault)

        def do_POST(self) -> None:
            """Read the form (a token request), then answer as for a GET."""
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.do_GET()

    return FaultHandler


def answer_ok(handler: BaseHTTPRequestHandler, faults: FaultServer, fault: str) -> None:
    """A small valid searchset (or a Patient for a read)."""
    send_json(handler, faults, fault, resource_for(handler.path))


def answer_slow(handler: BaseHTTPRequestHandler, faults: FaultServer, fault: str) -> None:
    """Say nothing for a long time, then answer."""
    time.sleep(SLOW_SECONDS)
    answer_ok(handler, faults, fault)


def answer_drip(handler: BaseHTTPRequestHandler, faults: FaultServer, fault: str) -> None:
    """Promise a large body, then send it one byte at a time until the client leaves."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/fhir+json")
    handler.send_header("Content-Length", "1000000")
    handler.end_headers()
    try:
        while True:
            handler.wfile.write(b" ")
            handler.wfile.flush()
            faults.count(fault, 1)
            time.sleep(DRIP_SECONDS)
    finally:
        faults.drip_ended_at.append(time.monotonic())


def answer_huge(handler: BaseHTTPRequestHandler, faults: FaultServer, fault: str) -> None:
    """A valid Bundle of 50 MB (padding inside one entry), declared with its length."""
    head = b'{"resourceType": "Bundle", "type": "searchset", "entry": [], "padding": "'
    tail = b'"}'
    padding = HUGE_BYTES - len(head) - len(tail)
    handler.send_response(200)
    handler.send_header("Content-Type", "application/fhir+json")
    handler.send_header("Content-Length", str(HUGE_BYTES))
    handler.end_headers()
    write_counted(handler, faults, fault, head)
    chunk = b"x" * STREAM_CHUNK
    while padding > 0:
        write_counted(handler, faults, fault, chunk[:padding])
        padding -= STREAM_CHUNK
    write_counted(handler, faults, fault, tail)


def answer_huge_undeclared(
    handler: BaseHTTPRequestHandler, faults: FaultServer, fault: str
) -> None:
    """The 50 MB Bundle without a Content-Length (the body ends when the connection closes)."""
    handler.close_connection = True
    handler.send_response(200)
    handler.send_header("Content-Type", "application/fhir+json")
    handler.send_header("Connection", "close")
    handler.end_headers()
    write_counted(handler, faults, fault, b'{"resourceType": "Bundle", "padding": "')
    chunk = b"x" * STREAM_CHUNK
    for _ in range(HUGE_BYTES // STREAM_CHUNK):
        write_counted(handler, faults, fault, chunk)
    write_counted(handler, faults, fault, b'"}')


def answer_redirect(handler: BaseHTTPRequestHandler, faults: FaultServer, fault: str) -> None:
    """Send the client to another server."""
    handler.send_response(302)
    handler.send_header("Location", faults.redirect_to + handler.path.split("/", 2)[2])
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def answer_reset(handler: BaseHTTPRequestHandler, faults: FaultServer, fault: str) -> None:
    """Drop the connection without answering."""
    handler.close_connection = True
    handler.connection.close()


def answer_garbage(handler: BaseHTTPRequestHandler, faults: FaultServer, fault: str) -> None:
    """A 200 whose body is not JSON."""
    body = b"\x00\xff<html>not fhir" * 100
    send_bytes(handler, faults, fault, body)


def answer_paging(handler: BaseHTTPRequestHandler, faults: FaultServer, fault: str) -> None:
    """A searchset page whose next link always leads to one more page."""
    page = int(handler.path.rsplit("page=", 1)[1]) if "page=" in handler.path else 0
    separator = "&" if "?" in handler.path else "?"
    base = handler.path.split("&page=")[0].split("?page=")[0]
    bundle = resource_for(handler.path)
    bundle["link"] = [
        {"relation": "next", "url": f"http://{faults.netloc}{base}{separator}page={page + 1}"}
    ]
    send_json(handler, faults, fault, bundle)


def answer_odd_bundle(handler: BaseHTTPRequestHandler, faults: FaultServer, fault: str) -> None:
    """A searchset of odd shape (a Patient for a read)."""
    bundle = resource_for(handler.path)
    if bundle["resourceType"] == "Bundle":
        bundle |= {"entry": 5, "link": [5, {"relation": "next", "url": 5}]}
    send_json(handler, faults, fault, bundle)


def resource_for(path: str) -> dict:
    """A Patient for a read, an empty searchset for a search."""
    if "/Patient/" in path:
        return {"resourceType": "Patient", "id": path.rsplit("/", 1)[-1].split("?")[0]}
    return {"resourceType": "Bundle", "type": "searchset", "entry": []}


def send_json(handler: BaseHTTPRequestHandler, faults: FaultServer, fault: str, body: dict) -> None:
    """Answer 200 with a JSON body."""
    send_bytes(handler, faults, fault, json.dumps(body).encode())


def send_bytes(handler: BaseHTTPRequestHandler, faults: FaultServer, fault: str, body: bytes):
    """Answer 200 with a body of known length."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/fhir+json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    write_counted(handler, faults, fault, body)


def write_counted(
    handler: BaseHTTPRequestHandler, faults: FaultServer, fault: str, data: bytes
) -> None:
    """Write body bytes and count them once written."""
    handler.wfile.write(data)
    faults.count(fault, len(data))


ANSWERS = {
    "ok": answer_ok,
    "slow": answer_slow,
    "drip": answer_drip,
    "huge": answer_huge,
    "huge-undeclared": answer_huge_undeclared,
    "redirect": answer_redirect,
    "reset": answer_reset,
    "garbage": answer_garbage,
    "paging": answer_paging,
    "odd-bundle": answer_odd_bundle,
}

"""A `next` link off the fhirServer's origin (even just http instead of https) gets no token."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cds_hooks.fhir_fetch import FetchFailed, FetchPolicy, FhirFetcher
from tests.hostile.fetch_app import call_order_select, cds_app_with
from tests.hostile.fetch_faults import resource_for
from tests.support.certificates import loopback_certificate, server_context

TOKEN = "ehr-token-next-link"
TLS_HANDSHAKE = b"\x16"


class EitherSchemeServer(ThreadingHTTPServer):
    """One loopback port speaking TLS to clients that start a handshake, plain HTTP to others.

    Every search answers one entry and a `next` link made by `next_link` (first page only);
    each request is recorded as (path, over TLS, carried the bearer token).
    """

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext | None, next_link: str):
        super().__init__(("127.0.0.1", 0), EitherSchemeHandler)
        self.context = context
        self.next_link = next_link
        self.requests: list[tuple[str, bool, bool]] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The port both schemes share."""
        return self.server_address[1]

    def finish_request(self, request, client_address) -> None:
        """Wrap the connection in TLS when the client opens with a TLS handshake."""
        if self.context is None or request.recv(1, socket.MSG_PEEK) != TLS_HANDSHAKE:
            super().finish_request(request, client_address)
            return
        with self.context.wrap_socket(request, server_side=True) as tls:
            super().finish_request(tls, client_address)

    def tokens_over_plain_http(self) -> list[str]:
        """Paths requested over plain http with the bearer token."""
        with self.lock:
            return [path for path, tls, token in self.requests if token and not tls]

    def __enter__(self) -> EitherSchemeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)


class EitherSchemeHandler(BaseHTTPRequestHandler):
    """Answers FHIR reads and searches; a first search page links to a next page."""

    protocol_version = "HTTP/1.1"
    server: EitherSchemeServer

    def do_GET(self) -> None:
        """Record the request, then answer a Patient or a one-entry page."""
        tls = isinstance(self.connection, ssl.SSLSocket)
        token = self.headers.get("Authorization", "") == f"Bearer {TOKEN}"
        with self.server.lock:
            self.server.requests.append((self.path, tls, token))
        resource = resource_for(self.path)
        if resource["resourceType"] == "Bundle" and "page=" not in self.path:
            resource["entry"] = [{"resource": {"resourceType": "Basic", "id": "first-page"}}]
            link = self.server.next_link.format(port=self.server.port, path=self.path)
            resource["link"] = [{"relation": "next", "url": link}]
        body = json.dumps(resource).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        """Stay quiet."""


@pytest.fixture
def tls_context(tmp_path, monkeypatch) -> ssl.SSLContext:
    """A server context with a throwaway certificate for 127.0.0.1, trusted by requests."""
    cert_file, key_file = loopback_certificate(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert_file))
    return server_context(cert_file, key_file)


@pytest.mark.parametrize("insecure_hosts", ["", "127.0.0.1"])
def test_an_http_next_link_from_an_https_server_never_gets_the_token(
    instance_path, tls_context, insecure_hosts
):
    downgrade = "http://127.0.0.1:{port}{path}&page=2"
    with (
        EitherSchemeServer(tls_context, downgrade) as server,
        cds_app_with(instance_path, FHIR_INSECURE_HOSTS=insecure_hosts) as app,
    ):
        response = call_order_select(app, f"https://127.0.0.1:{server.port}/fhir", TOKEN)
        time.sleep(0.2)  # let a request in flight be recorded
    assert any(tls and token for _, tls, token in server.requests)  # the https pages were read
    assert server.tokens_over_plain_http() == []
    assert response.status_code == 412  # paging was cut short: the data is not complete


def test_a_next_link_to_another_host_fails_the_fetch_instead_of_ending_it(instance_path):
    elsewhere = "http://localhost:{port}{path}&page=2"
    policy = FetchPolicy(insecure_hosts=frozenset({"127.0.0.1", "localhost"}))
    with EitherSchemeServer(None, elsewhere) as server:
        fetcher = FhirFetcher(f"http://127.0.0.1:{server.port}/fhir", TOKEN, policy=policy)
        try:
            with pytest.raises(FetchFailed, match="outside the FHIR server"):
                fetcher.get_pages(f"{fetcher.base_url}/Condition?patient=p", time.monotonic() + 2)
        finally:
            fetcher.close()
    assert [path for path, _, _ in server.requests] == ["/fhir/Condition?patient=p"]

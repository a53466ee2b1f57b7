"""The demo never signs or sends to an origin the caller chose through the Host header."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import pytest
import requests

from app import create_app
from app.db import close_stores
from app.devtools.demo_origin import names_this_loopback_server
from tests.support.live_server import LiveServer
from tests.support.loopback import serving

HOOK = "/demo-ehr/api/patients/sepsis-adult/hooks/order-select"
DRAFT = {"drafts": ["ceftriaxone-1g"]}


class Recorder(BaseHTTPRequestHandler):
    """An attacker's server: records every request it gets and answers with no cards."""

    received: ClassVar[list[tuple[str, dict, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append((self.path, dict(self.headers), body))
        answer = json.dumps({"cards": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        """Stay quiet."""


@pytest.fixture
def attacker():
    """A recording server on another loopback port."""
    Recorder.received = []
    with serving(Recorder) as server:
        yield server


def demo_server(instance_path, **config):
    """The app in demo mode on a real loopback port."""
    settings = {"TESTING": True, "DEMO": True, "DATABASE": str(instance_path / "b.db"), **config}
    return create_app(settings, instance_path=instance_path)


@pytest.mark.parametrize("forged", ["127.0.0.1:{attacker_port}", "evil.example", "evil.example:80"])
def test_a_forged_host_gets_a_clear_error_and_sends_nothing_anywhere(
    instance_path, attacker, forged
):
    app = demo_server(instance_path)
    host = forged.format(attacker_port=attacker.server_port)
    with (
        LiveServer(app) as server,
        requests.post(server.url + HOOK, json=DRAFT, headers={"Host": host}, timeout=15) as r,
    ):
        status, body = r.status_code, r.json()
    close_stores(app)
    assert status == 400
    assert body["error"]["code"] == "untrusted_host"
    assert "BEDSIDE_PUBLIC_BASE_URL" in body["error"]["message"]
    assert Recorder.received == []


def test_with_a_public_base_url_the_host_header_is_ignored(instance_path, attacker):
    app = demo_server(instance_path)
    with LiveServer(app) as server:
        app.config["PUBLIC_BASE_URL"] = server.url  # known only once the port is
        forged = {"Host": f"127.0.0.1:{attacker.server_port}"}
        with requests.post(server.url + HOOK, json=DRAFT, headers=forged, timeout=15) as r:
            status, cards = r.status_code, r.json()["cards"]
    close_stores(app)
    assert status == 200 and cards  # the sepsis card, from Bedside itself
    assert Recorder.received == []


def test_the_demo_works_at_its_own_loopback_address(instance_path, attacker):
    app = demo_server(instance_path)
    with LiveServer(app) as server:
        port = server.url.rsplit(":", 1)[1]
        with requests.post(
            server.url + HOOK, json=DRAFT, headers={"Host": f"localhost:{port}"}, timeout=15
        ) as response:
            status, cards = response.status_code, response.json()["cards"]
    close_stores(app)
    assert status == 200 and cards
    assert Recorder.received == []


@pytest.mark.parametrize(
    ("host", "scheme", "port", "trusted"),
    [
        ("127.0.0.1:8000", "http", "8000", True),
        ("localhost:8000", "http", "8000", True),
        ("[::1]:8000", "http", "8000", True),
        ("localhost", "http", "80", True),
        ("localhost", "https", "443", True),
        ("127.0.0.1:8001", "http", "8000", False),  # another local service
        ("evil.example:8000", "http", "8000", False),
        ("127.0.0.1.evil.example:8000", "http", "8000", False),
        ("localhost:notaport", "http", "8000", False),
        ("", "http", "8000", False),
    ],
)
def test_only_a_loopback_host_on_this_servers_port_is_trusted(host, scheme, port, trusted):
    assert names_this_loopback_server(host, scheme, {"SERVER_PORT": port}) is trusted

"""A client's JWKS server that drips its answer costs a call seconds, never a worker for good."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from tests.cds_hooks.conftest import CdsCaller
from tests.cds_hooks.jwt_helpers import JwksServer, make_ec_key, public_jwks, sign_client_token
from tests.hostile.fetch_app import cds_app_with
from tests.support.loopback import serving

DISCOVERY = "/cds-services"
DRIPPING_ISS = "https://dripping-jku.test.example"
HEALTHY_ISS = "https://healthy-jku.test.example"
UNAUTHORIZED = {"error": {"code": "unauthorized", "message": "Authentication failed."}}
BOUND_SECONDS = 15  # a generous bound: the calls used to wait as long as the server dripped
HEALTHY_KEY = make_ec_key("healthy-ehr")
DRIP_SECONDS = 0.2


class DrippingJwks(BaseHTTPRequestHandler):
    """Promises a small JWKS, then sends it one byte at a time until the client leaves."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        """Drip spaces (valid JSON whitespace) well under the JWKS size cap."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "10000")
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for _ in range(10000):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(DRIP_SECONDS)

    def log_message(self, *args) -> None:
        """Stay quiet."""


class JkuCaller(CdsCaller):
    """Calls discovery as a jku client (CdsCaller signs as the inline test EHR)."""

    def __init__(self, client, key, iss: str):
        super().__init__(client, key)
        self.iss = iss

    def token(self, path: str, **claims) -> str:
        """Sign a token for path with this caller's issuer."""
        aud = f"http://localhost{path}"
        return sign_client_token(self.key, iss=self.iss, aud=aud, kid=self.key.kid, **claims)


@pytest.fixture
def dripping_app(instance_path):
    """An app trusting a client whose JWKS drips and a client whose JWKS answers at once."""
    healthy = JwksServer(public_jwks(HEALTHY_KEY))
    with serving(DrippingJwks) as dripping:
        clients = instance_path / "jku-clients.json"
        clients.write_text(
            json.dumps(
                [
                    {
                        "iss": DRIPPING_ISS,
                        "jku": f"http://127.0.0.1:{dripping.server_port}/jwks.json",
                    },
                    {"iss": HEALTHY_ISS, "jku": healthy.url},
                ]
            )
        )
        with cds_app_with(instance_path, CDS_CLIENTS=str(clients)) as app:
            yield app
    healthy.close()


def timed_discovery(app, caller_for, results: dict, name: str) -> None:
    """GET discovery as one caller; note the response and the seconds it took."""
    started = time.monotonic()
    response = caller_for(app.test_client()).get(DISCOVERY)
    results[name] = (response.status_code, response.json, time.monotonic() - started)


def discoveries_started(app, caller_for, results: dict, names: list[str]) -> list:
    """Start one timed discovery call per name, each in its own thread; the threads."""
    threads = [
        threading.Thread(target=timed_discovery, args=(app, caller_for, results, name), daemon=True)
        for name in names
    ]
    for thread in threads:
        thread.start()
    return threads


def test_forged_tokens_naming_a_dripping_jku_end_quickly_and_hold_no_other_client(dripping_app):
    forger = make_ec_key("forger")
    results: dict[str, tuple] = {}
    forged = discoveries_started(
        dripping_app, lambda c: JkuCaller(c, forger, DRIPPING_ISS), results, ["f0", "f1"]
    )
    time.sleep(0.5)  # both forged calls are now fetching or waiting for the fetch
    timed_discovery(dripping_app, lambda c: JkuCaller(c, HEALTHY_KEY, HEALTHY_ISS), results, "ok")
    for thread in forged:
        thread.join(timeout=BOUND_SECONDS)
    assert results["ok"][0] == 200
    assert results["ok"][2] < BOUND_SECONDS
    for name in ("f0", "f1"):
        assert name in results, "a forged call was still held by the dripping JWKS server"
        status, body, seconds = results[name]
        assert (status, body) == (401, UNAUTHORIZED)
        assert seconds < BOUND_SECONDS


SLOW_ISS = "https://slow-jku.test.example"
SLOW_SECONDS = 1.5  # slower than a call's short wait, well inside the fetch's deadline


class SlowJwks(BaseHTTPRequestHandler):
    """Answers with the healthy client's JWKS after a pause."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        """Wait, then send the key set."""
        time.sleep(SLOW_SECONDS)
        body = json.dumps(public_jwks(HEALTHY_KEY)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        """Stay quiet."""


def test_calls_arriving_while_a_cold_jwks_is_fetched_wait_for_it_and_are_answered(instance_path):
    with serving(SlowJwks) as slow:
        clients = instance_path / "slow-clients.json"
        jku = f"http://127.0.0.1:{slow.server_port}/jwks.json"
        clients.write_text(json.dumps([{"iss": SLOW_ISS, "jku": jku}]))
        with cds_app_with(instance_path, CDS_CLIENTS=str(clients)) as app:
            results: dict[str, tuple] = {}
            names = [f"c{i}" for i in range(5)]
            calls = discoveries_started(
                app, lambda c: JkuCaller(c, HEALTHY_KEY, SLOW_ISS), results, names
            )
            for thread in calls:
                thread.join(timeout=BOUND_SECONDS)
    assert sorted(status for status, _, _ in results.values()) == [200] * 5

"""`bedside serve` runs the production server (gunicorn) for real, on loopback, in demo mode."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

BEDSIDE = Path(sys.executable).with_name("bedside")


def free_port() -> int:
    """Ask the OS for a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(base_url: str, server: subprocess.Popen, seconds: float = 30) -> None:
    """Poll /healthz until it answers or the server dies."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"server exited early with {server.returncode}")
        try:
            with requests.get(f"{base_url}/healthz", timeout=1) as response:
                if response.status_code == 200:
                    return
        except (requests.ConnectionError, requests.Timeout):  # workers still booting
            time.sleep(0.2)
    raise AssertionError("server did not come up")


@pytest.fixture
def demo_server(tmp_path):
    """Start `bedside serve` in demo mode with two workers; stop it afterwards."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")},
        "BEDSIDE_DEMO": "1",
        "BEDSIDE_DATABASE": str(tmp_path / "bedside.db"),
        "BEDSIDE_SECRET_KEY": "test-secret",
    }
    log_path = tmp_path / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [str(BEDSIDE), "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url, server)
        yield base_url, log_path
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def test_serve_runs_gunicorn_with_demo_helpers(demo_server):
    base_url, log_path = demo_server
    with requests.get(f"{base_url}/healthz", timeout=5) as health:
        assert health.json() == {"status": "ok", "demo": True}
    with requests.get(f"{base_url}/fhir/metadata", timeout=5) as metadata:
        assert metadata.json()["fhirVersion"] == "4.0.1"
    with requests.get(f"{base_url}/cds-services", timeout=5) as discovery:
        assert discovery.status_code == 401  # no JWT, no discovery
    log = log_path.read_text()
    assert "gunicorn" in log.lower()
    assert "Running on http" not in log  # not the Werkzeug development server


def test_access_log_never_records_query_strings(demo_server):
    base_url, log_path = demo_server
    with requests.get(f"{base_url}/fhir/Patient?_id=x&code=oauth-code-123", timeout=5):
        pass
    time.sleep(0.3)
    log = log_path.read_text()
    assert "/fhir/Patient" in log
    assert "oauth-code-123" not in log

"""`bedside serve` runs the production server (gunicorn) for real, on loopback, in demo mode."""

from __future__ import annotations

import pytest
import requests

from tests.support.serve import served_bedside, wait_for_log_text


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """Start `bedside serve` in demo mode with two workers for the module; stop it afterwards."""
    tmp_path = tmp_path_factory.mktemp("serve")
    settings = {
        "BEDSIDE_DEMO": "1",
        "BEDSIDE_DATABASE": str(tmp_path / "bedside.db"),
        "BEDSIDE_SECRET_KEY": "test-secret",
    }
    with served_bedside(settings, tmp_path / "server.log") as served:
        yield served.url, served.log_path


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
    wait_for_log_text(log_path, "/fhir/Patient")
    log = log_path.read_text()
    assert "/fhir/Patient" in log
    assert "oauth-code-123" not in log

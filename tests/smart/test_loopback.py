"""Real HTTP on loopback: discovery, token exchange, JWKS and FHIR reads all go over sockets."""

from __future__ import annotations

import json

import pytest
import requests
from flask import Flask

from app.db import close_stores
from app.smart import current_smart_session, fhir_get
from app.smart.discovery import OAUTH_URIS, Discovery
from app.smart.smart_errors import SmartLaunchError
from tests.smart.conftest import build_demo_app
from tests.smart.helpers import (
    location_path,
    new_launch,
    query_of,
    sessions_rows,
    stored_sessions,
)
from tests.smart.loopback import serve


@pytest.fixture
def live_app(instance_path, monkeypatch):
    """The demo app with a probe page that reads the launched patient through fhir_get."""
    app = build_demo_app(instance_path, monkeypatch, SMART_OFFLINE_ACCESS=True)
    app.extensions["smart"].transport_adapters.clear()  # everything over real sockets

    @app.get("/test/probe")
    def probe():
        session = current_smart_session()
        return fhir_get(session, f"Patient/{session.patient}") if session else ("none", 403)

    yield app
    close_stores(app)


def launch_over_http(base: str, server) -> tuple[requests.Session, list[requests.Response]]:
    """Drive an EHR launch with a cookie-keeping requests session, one redirect at a time."""
    browser = requests.Session()
    hops = [
        browser.get(
            f"{base}/smart/launch",
            params={"iss": f"{base}/fhir", "launch": new_launch(server)},
            allow_redirects=False,
            timeout=10,
        )
    ]
    for _ in range(2):
        assert hops[-1].status_code == 302, hops[-1].text
        hops.append(browser.get(hops[-1].headers["Location"], allow_redirects=False, timeout=10))
    return browser, hops


def test_ehr_launch_over_real_http(live_app):
    server = live_app.extensions["demo_auth"]
    with serve(live_app) as base:
        browser, hops = launch_over_http(base, server)
        with browser:
            assert hops[-1].status_code == 302
            assert location_path(hops[-1].headers["Location"]) == "/app/"
            patient = browser.get(f"{base}/test/probe", timeout=10)
            assert patient.status_code == 200 and patient.json()["id"] == "sepsis-adult"
            anonymous = requests.get(f"{base}/fhir/Patient/sepsis-adult", timeout=10)
            assert anonymous.status_code == 401
    query = query_of(hops[0].headers["Location"])
    assert query["aud"] == f"{base}/fhir" and query["code_challenge_method"] == "S256"
    [row] = sessions_rows(live_app)
    assert row["fhir_user"] == f"{base}/fhir/Practitioner/dr-ed-okafor"
    cookies = " ".join(h for hop in hops for h in hop.raw.headers.getlist("Set-Cookie"))
    [session] = stored_sessions(live_app)
    assert session.access_token not in cookies and session.refresh_token not in cookies


def metadata_only(app: Flask):
    """Wrap the demo app as an older EHR: no .well-known, OAuth URIs in /metadata only."""

    def wsgi(environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/fhir/.well-known/smart-configuration":
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"error": "not found"}']
        if path == "/fhir/metadata":
            base = f"http://{environ['HTTP_HOST']}"
            body = json.dumps(capability_statement(base)).encode()
            start_response("200 OK", [("Content-Type", "application/fhir+json")])
            return [body]
        return app(environ, start_response)

    return wsgi


def capability_statement(base: str) -> dict:
    """A CapabilityStatement announcing the demo EHR's OAuth URIs the old way."""
    uris = [
        {"url": "authorize", "valueUri": f"{base}/demo-ehr/auth/authorize"},
        {"url": "token", "valueUri": f"{base}/demo-ehr/auth/token"},
    ]
    security = {"extension": [{"url": OAUTH_URIS, "extension": uris}]}
    return {
        "resourceType": "CapabilityStatement",
        "rest": [{"mode": "server", "security": security}],
    }


def test_metadata_oauth_uris_are_used_when_well_known_is_404(live_app):
    server = live_app.extensions["demo_auth"]
    with serve(metadata_only(live_app)) as base:
        browser, hops = launch_over_http(base, server)
        browser.close()
    query = query_of(hops[0].headers["Location"])
    assert hops[0].headers["Location"].startswith(f"{base}/demo-ehr/auth/authorize?")
    assert "openid" not in query["scope"].split()  # no jwks_uri: no id_token to trust
    assert hops[-1].status_code == 302
    [row] = sessions_rows(live_app)
    assert row["patient"] == "sepsis-adult" and row["fhir_user"] is None


def tiny_ehr(well_known: dict | None) -> Flask:
    """A minimal EHR front door for discovery tests; counts the requests it gets."""
    app = Flask(__name__)
    app.config["hits"] = []

    @app.get("/fhir/.well-known/smart-configuration")
    def smart_configuration():
        app.config["hits"].append("well-known")
        return (well_known, 200) if well_known else ({"error": "nope"}, 404)

    @app.get("/fhir/metadata")
    def metadata():
        app.config["hits"].append("metadata")
        return capability_statement("https://ehr.example")

    return app


def test_discovery_falls_back_to_metadata_and_caches_briefly():
    app = tiny_ehr(None)
    discovery = Discovery(requests.Session)
    with serve(app) as base:
        config = discovery.configuration(f"{base}/fhir")
        again = discovery.configuration(f"{base}/fhir")
    assert config is again
    assert config.authorization_endpoint == "https://ehr.example/demo-ehr/auth/authorize"
    assert config.token_endpoint == "https://ehr.example/demo-ehr/auth/token"
    assert config.jwks_uri is None
    assert app.config["hits"] == ["well-known", "metadata"]


def test_discovery_refuses_a_server_without_s256():
    document = {
        "authorization_endpoint": "https://ehr.example/authorize",
        "token_endpoint": "https://ehr.example/token",
        "code_challenge_methods_supported": ["plain"],
    }
    with serve(tiny_ehr(document)) as base, pytest.raises(SmartLaunchError, match="S256"):
        Discovery(requests.Session).configuration(f"{base}/fhir")


def test_an_unreachable_ehr_gives_a_clear_error():
    with serve(tiny_ehr(None)) as base:
        pass  # the port is closed again now
    with pytest.raises(SmartLaunchError, match="could not reach"):
        Discovery(requests.Session).configuration(f"{base}/fhir")

"""Without offline_access Bedside asks for online_access, so a session outlives its first token.

SMART App Launch 2.2: online_access asks for a refresh token usable while the user is online.
An operator's own scope naming either refresh scope is sent as written; an EHR that grants no
refresh token still signs the clinician in, until the access token ends.
"""

from __future__ import annotations

import json

import pytest

from app.db import close_stores
from app.smart import current_smart_session, fhir_get
from tests.smart.conftest import build_demo_app
from tests.smart.helpers import ISS, ehr_launch, execute, sessions_rows

PROBE = "/test/probe"


def default_app(instance_path, monkeypatch, **config):
    """Bedside in demo mode with the default SMART settings and a page that reads the patient."""
    app = build_demo_app(instance_path, monkeypatch, **config)

    @app.get(PROBE)
    def read_patient():
        return fhir_get(current_smart_session(), "Patient/sepsis-adult")

    return app


@pytest.fixture
def default_smart_app(instance_path, monkeypatch):
    """Bedside with SMART_OFFLINE_ACCESS left off."""
    app = default_app(instance_path, monkeypatch)
    yield app
    close_stores(app)


def test_a_session_outlives_its_first_access_token_by_default(default_smart_app):
    browser = default_smart_app.test_client()
    flow = ehr_launch(browser, default_smart_app.extensions["demo_auth"])
    assert "online_access" in flow.authorize_query["scope"].split()
    execute(default_smart_app, "UPDATE smart_sessions SET access_expires_at = 0")
    response = browser.get(PROBE)
    assert response.status_code == 200 and response.json["id"] == "sepsis-adult"


def test_an_ehr_granting_no_refresh_token_ends_the_session_with_the_access_token(
    default_smart_app,
):
    transport = default_smart_app.extensions["test_transport"]

    def withhold_refresh_token(request, response):
        if request.path_url.startswith("/demo-ehr/auth/token") and response.status_code == 200:
            body = response.json()
            body.pop("refresh_token", None)
            body["scope"] = body["scope"].replace("online_access", "").strip()
            response._content = json.dumps(body).encode()

    transport.rewrites.append(withhold_refresh_token)
    browser = default_smart_app.test_client()
    ehr_launch(browser, default_smart_app.extensions["demo_auth"])
    [row] = sessions_rows(default_smart_app)
    assert row["refresh_token"] is None
    assert browser.get(PROBE).status_code == 200
    execute(default_smart_app, "UPDATE smart_sessions SET access_expires_at = 0")
    response = browser.get(PROBE)
    assert response.status_code == 401
    assert "Please relaunch Bedside from your EHR." in response.get_data(as_text=True)


@pytest.mark.parametrize("refresh_scope", ["offline_access", "online_access"])
def test_an_operators_refresh_scope_is_the_only_one_asked(
    instance_path, monkeypatch, refresh_scope
):
    clients = instance_path / "smart_clients.json"
    scope = f"launch openid fhirUser patient/Patient.rs {refresh_scope}"
    clients.write_text(json.dumps([{"iss": ISS, "client_id": "bedside-demo", "scope": scope}]))
    app = default_app(instance_path, monkeypatch, SMART_CLIENTS=str(clients))
    try:
        flow = ehr_launch(app.test_client(), app.extensions["demo_auth"])
        asked = flow.authorize_query["scope"].split()
        assert asked == scope.split()
    finally:
        close_stores(app)

"""Tokens go only to the FHIR server, and short-lived access tokens never break a launch."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from app.db import close_stores
from app.smart import current_smart_session, fhir_get
from tests.smart.conftest import build_demo_app
from tests.smart.helpers import ehr_launch, location_path

FHIR_PREFIX = "/fhir/"


@pytest.fixture
def short_token_app(instance_path, monkeypatch, request):
    """Bedside in demo mode whose EHR issues access tokens of `request.param` seconds."""
    seconds, offline = request.param
    app = build_demo_app(
        instance_path, monkeypatch, DEMO_TOKEN_SECONDS=seconds, SMART_OFFLINE_ACCESS=offline
    )

    @app.get("/test/probe")
    def read_patient():
        session = current_smart_session()
        return fhir_get(session, f"Patient/{session.patient}")

    yield app
    close_stores(app)


def test_the_access_token_is_sent_only_to_the_fhir_server(
    browser, auth_server, demo_app, transport
):
    flow = ehr_launch(browser, auth_server)
    assert flow.callback.status_code == 302
    assert browser.get("/app/").status_code == 200
    jwks = transport.requests_to("/demo-ehr/auth/jwks")
    assert jwks, "the launch validated the id_token with the EHR's published keys"
    bearer = [r for r in transport.sent if r.headers.get("Authorization", "").startswith("Bearer")]
    assert bearer, "the app page read the record"
    assert all(urlsplit(r.url).path.startswith(FHIR_PREFIX) for r in bearer)
    assert all("Authorization" not in r.headers for r in jwks)


@pytest.mark.parametrize("short_token_app", [(60, False), (30, False), (1, False)], indirect=True)
def test_a_short_lived_token_without_refresh_completes_the_launch(short_token_app):
    browser = short_token_app.test_client()
    flow = ehr_launch(browser, short_token_app.extensions["demo_auth"])
    assert flow.callback.status_code == 302
    assert location_path(flow.callback.headers["Location"]) == "/app/"
    page = browser.get("/test/probe")
    assert page.status_code in {200, 401}, page.get_data(as_text=True)[:300]


@pytest.mark.parametrize("short_token_app", [(30, False)], indirect=True)
def test_a_refused_short_token_asks_for_a_relaunch(short_token_app):
    browser = short_token_app.test_client()
    server = short_token_app.extensions["demo_auth"]
    ehr_launch(browser, server)
    assert browser.get("/test/probe").json["id"] == "sepsis-adult"
    server.revoke_all_tokens()  # the EHR signs everyone out: no token, no refresh
    page = browser.get("/app/")
    assert page.status_code == 401
    assert "Please relaunch" in page.get_data(as_text=True)


@pytest.mark.parametrize("short_token_app", [(5, True)], indirect=True)
def test_a_short_token_with_offline_access_is_refreshed(short_token_app):
    browser = short_token_app.test_client()
    ehr_launch(browser, short_token_app.extensions["demo_auth"])
    for _ in range(3):
        response = browser.get("/test/probe")
        assert response.status_code == 200 and response.json["id"] == "sepsis-adult"
    token_calls = short_token_app.extensions["test_transport"].requests_to("/demo-ehr/auth/token")
    assert any("grant_type=refresh_token" in request.body for request in token_calls)

"""fhir_get refreshes expired or refused access tokens; a refused refresh ends the session."""

from __future__ import annotations

import json

import pytest

from app.smart import SmartSessionEnded, current_smart_session, fhir_get
from app.smart.sessions import COOKIE_NAME
from tests.smart.helpers import ehr_launch, execute, sessions_rows, stored_sessions


@pytest.fixture
def smart_database_url(database_url):
    """Run these tests on both engines: the SMART stores' SQL is shared."""
    return database_url


TOKEN_PATH = "/demo-ehr/auth/token"


@pytest.fixture
def probe(demo_app):
    """A page that reads the launched patient through fhir_get (added before any request)."""

    @demo_app.get("/test/probe")
    def read_patient():
        session = current_smart_session()
        if session is None:
            return {"error": "no session"}, 403
        return fhir_get(session, f"Patient/{session.patient}")

    return "/test/probe"


def expire_access_token(app) -> None:
    """Make the stored session believe its access token has expired."""
    execute(app, "UPDATE smart_sessions SET access_expires_at = 0")


def refresh_requests(transport) -> list:
    """The refresh_token grant requests the client made."""
    return [
        request
        for request in transport.requests_to(TOKEN_PATH)
        if "grant_type=refresh_token" in request.body
    ]


def test_an_expired_access_token_is_refreshed_first(
    browser, auth_server, demo_app, transport, probe
):
    ehr_launch(browser, auth_server)
    [before] = stored_sessions(demo_app)
    expire_access_token(demo_app)
    response = browser.get(probe)
    assert response.status_code == 200 and response.json["id"] == "sepsis-adult"
    assert len(refresh_requests(transport)) == 1
    [after] = stored_sessions(demo_app)
    assert after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token  # the new one replaces the old
    assert auth_server.store.take_refresh_token(before.refresh_token) is None


def test_a_401_from_the_fhir_server_triggers_one_refresh(
    browser, auth_server, demo_app, transport, probe
):
    ehr_launch(browser, auth_server)
    auth_server.store.revoke_access_tokens()  # the EHR stops honouring the access token early
    response = browser.get(probe)
    assert response.status_code == 200
    assert len(refresh_requests(transport)) == 1
    fhir_calls = [r for r in transport.sent if "/fhir/Patient/" in r.url]
    assert len(fhir_calls) == 2


def test_a_stale_session_object_uses_the_refreshed_token(browser, auth_server, demo_app, transport):
    ehr_launch(browser, auth_server)
    expire_access_token(demo_app)
    cookie = f"{COOKIE_NAME}={browser.get_cookie(COOKIE_NAME).value}"
    with demo_app.test_request_context(headers={"Cookie": cookie}):
        stale = current_smart_session()
        fhir_get(stale, "Patient/sepsis-adult")
        fhir_get(stale, "Patient/sepsis-adult")  # must not refresh again with the old token
    assert len(refresh_requests(transport)) == 1


def test_a_refused_refresh_ends_the_session_and_asks_for_a_relaunch(
    browser, auth_server, demo_app, probe
):
    ehr_launch(browser, auth_server)
    auth_server.revoke_all_tokens()
    expire_access_token(demo_app)
    response = browser.get(probe)
    assert response.status_code == 401
    assert "Please relaunch Bedside from your EHR." in response.get_data(as_text=True)
    assert sessions_rows(demo_app) == []
    assert any(c.startswith(f"{COOKIE_NAME}=;") for c in response.headers.getlist("Set-Cookie"))


def test_api_callers_get_the_json_error_shape(browser, auth_server, demo_app, probe):
    ehr_launch(browser, auth_server)
    auth_server.revoke_all_tokens()
    response = browser.get(probe, headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "smart_session_ended"


def test_without_a_refresh_token_an_expired_session_ends(demo_app, browser, auth_server):
    ehr_launch(browser, auth_server)
    execute(demo_app, "UPDATE smart_sessions SET refresh_token = NULL, access_expires_at = 0")
    cookie = f"{COOKIE_NAME}={browser.get_cookie(COOKIE_NAME).value}"
    with demo_app.test_request_context(headers={"Cookie": cookie}):
        session = current_smart_session()
        with pytest.raises(SmartSessionEnded):
            fhir_get(session, "Patient/sepsis-adult")
    assert sessions_rows(demo_app) == []


def test_fhir_get_never_sends_the_token_to_another_server(browser, auth_server, demo_app):
    ehr_launch(browser, auth_server)
    cookie = f"{COOKIE_NAME}={browser.get_cookie(COOKIE_NAME).value}"
    with demo_app.test_request_context(headers={"Cookie": cookie}):
        session = current_smart_session()
        with pytest.raises(ValueError, match="own FHIR server"):
            fhir_get(session, "https://attacker.example/fhir/Patient/x")
        with pytest.raises(ValueError):
            fhir_get(session, "http://localhost/fhirevil/Patient/x")


@pytest.mark.parametrize(
    "odd",
    [{"expires_in": [60]}, {"expires_in": "1e400"}],
    ids=["lifetime-list", "lifetime-text"],
)
def test_a_refresh_answer_that_cannot_be_read_ends_the_session(
    browser, auth_server, demo_app, transport, probe, odd
):
    """A token answer authlib cannot read is a refused refresh: relaunch, never a 500."""
    ehr_launch(browser, auth_server)

    def rewrite(request, response):
        if "grant_type=refresh_token" in (request.body or "") and response.status_code == 200:
            response._content = json.dumps({**response.json(), **odd}).encode()

    transport.rewrites.append(rewrite)
    expire_access_token(demo_app)
    response = browser.get(probe)
    assert response.status_code == 401
    assert sessions_rows(demo_app) == []


def test_a_refresh_token_answer_that_is_not_text_keeps_the_one_held(
    browser, auth_server, demo_app, transport, probe
):
    """An object as the new refresh_token (or scope) is not stored: the old ones stay."""
    ehr_launch(browser, auth_server)
    [before] = stored_sessions(demo_app)

    def rewrite(request, response):
        if "grant_type=refresh_token" in (request.body or "") and response.status_code == 200:
            body = {**response.json(), "refresh_token": {"x": 1}, "scope": ["launch"]}
            response._content = json.dumps(body).encode()

    transport.rewrites.append(rewrite)
    expire_access_token(demo_app)
    assert browser.get(probe).status_code == 200
    [after] = stored_sessions(demo_app)
    assert after.refresh_token == before.refresh_token and after.scope == before.scope

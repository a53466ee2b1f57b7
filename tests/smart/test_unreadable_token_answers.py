"""Token answers Bedside cannot read or store are a clear page (or a relaunch), never a 500.

An answer nested deeper than Python's parser goes, or whose stored text holds a NUL character
(PostgreSQL's text columns cannot keep one), is refused on both engines.
"""

from __future__ import annotations

import json

import pytest

from app.smart import current_smart_session, fhir_get
from tests.smart.helpers import (
    ISS,
    ehr_launch,
    execute,
    new_launch,
    resign_id_token,
    sessions_rows,
)

TOKEN_PATH = "/demo-ehr/auth/token"
DEPTH = 50_000


@pytest.fixture
def smart_database_url(database_url):
    """Run these tests on both engines: PostgreSQL refuses what SQLite keeps."""
    return database_url


@pytest.fixture
def probe(demo_app):
    """A page that reads the launched patient through fhir_get (added before any request)."""

    @demo_app.get("/test/probe")
    def read_patient():
        return fhir_get(current_smart_session(), "Patient/sepsis-adult")

    return "/test/probe"


def deeply_nested(body: bytes) -> bytes:
    """A token answer with one more field: a list nested DEPTH levels deep."""
    return body.rstrip(b"}") + b', "deep": ' + b"[" * DEPTH + b"]" * DEPTH + b"}"


def rewrite_token_answers(transport, change, *, grant: str) -> None:
    """Pass successful token answers of one grant type through `change(body) -> body`."""

    def rewrite(request, response):
        if f"grant_type={grant}" in (request.body or "") and response.status_code == 200:
            response._content = change(response.content)

    transport.rewrites.append(rewrite)


def with_fields(**fields):
    """A change that sets fields of the JSON token answer."""
    return lambda body: json.dumps({**json.loads(body), **fields}).encode()


def callback_of(browser, server) -> str:
    """Run the launch and authorize steps; return the callback URL the EHR redirected to."""
    launch = browser.get("/smart/launch", query_string={"iss": ISS, "launch": new_launch(server)})
    return browser.get(launch.headers["Location"]).headers["Location"]


def assert_unreadable_page(response, demo_app) -> None:
    """The 'could not be read' page, and nothing stored."""
    assert response.status_code == 502
    assert "could not be read" in response.get_data(as_text=True)
    assert sessions_rows(demo_app) == []


def test_a_deeply_nested_token_answer_is_a_page(browser, auth_server, demo_app, transport):
    rewrite_token_answers(transport, deeply_nested, grant="authorization_code")
    assert_unreadable_page(browser.get(callback_of(browser, auth_server)), demo_app)


@pytest.mark.parametrize(
    "fields",
    [
        {"patient": "sepsis-adult\x00x"},
        {"encounter": "visit\x00"},
        {"scope": "launch\x00 openid"},
        {"smart_style_url": "https://ehr.example/style\x00.json"},
        {"appContext": "context\x00"},
    ],
    ids=["patient", "encounter", "scope", "smart_style_url", "appContext"],
)
def test_a_token_answer_with_a_nul_in_stored_text_is_a_page(
    browser, auth_server, demo_app, transport, fields
):
    rewrite_token_answers(transport, with_fields(**fields), grant="authorization_code")
    assert_unreadable_page(browser.get(callback_of(browser, auth_server)), demo_app)


@pytest.mark.parametrize("claim", ["fhirUser", "sub"])
def test_an_id_token_with_a_nul_in_the_users_name_is_a_page(
    browser, auth_server, demo_app, transport, claim
):
    key = auth_server.credentials.signing_key
    change = {claim: f"{ISS}/Practitioner/dr\x00x"}
    rewrite_token_answers(
        transport, lambda body: resign_id_token(body, key, change), grant="authorization_code"
    )
    assert_unreadable_page(browser.get(callback_of(browser, auth_server)), demo_app)


@pytest.mark.parametrize(
    "change",
    [deeply_nested, with_fields(scope="launch\x00 openid")],
    ids=["deeply-nested", "nul-in-scope"],
)
def test_a_refresh_answer_that_cannot_be_read_or_stored_ends_the_session(
    browser, auth_server, demo_app, transport, probe, change
):
    ehr_launch(browser, auth_server)
    rewrite_token_answers(transport, change, grant="refresh_token")
    execute(demo_app, "UPDATE smart_sessions SET access_expires_at = 0")
    response = browser.get(probe)
    assert response.status_code == 401
    assert "Please relaunch Bedside from your EHR." in response.get_data(as_text=True)
    assert sessions_rows(demo_app) == []  # ended, so no refresh lock is left held

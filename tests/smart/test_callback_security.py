"""The callback refuses anything but the answer to this browser's own request; nothing is stored."""

from __future__ import annotations

import json

import pytest
from joserfc.jwk import RSAKey

from tests.smart.helpers import ISS, new_launch, resign_id_token, sessions_rows


@pytest.fixture
def smart_database_url(database_url):
    """Run these tests on both engines: the SMART stores' SQL is shared."""
    return database_url


TOKEN_PATH = "/demo-ehr/auth/token"


def start_launch(browser, server) -> str:
    """Run the launch and the authorize step; return the callback URL the EHR redirected to."""
    launch = browser.get("/smart/launch", query_string={"iss": ISS, "launch": new_launch(server)})
    authorize = browser.get(launch.headers["Location"])
    return authorize.headers["Location"]


def assert_refused(response, demo_app, text: str) -> None:
    """A clear 400 page and no session stored."""
    assert response.status_code == 400
    assert text in response.get_data(as_text=True)
    assert "text/html" in response.headers["Content-Type"]
    assert sessions_rows(demo_app) == []


def test_wrong_state_is_refused(browser, auth_server, demo_app):
    callback = start_launch(browser, auth_server)
    forged = callback.replace("state=", "state=x")
    assert_refused(browser.get(forged), demo_app, "Sign-in link not valid")


def test_missing_state_is_refused(browser, auth_server, demo_app):
    callback = start_launch(browser, auth_server)
    code = callback.split("code=")[1].split("&")[0]
    response = browser.get("/smart/callback", query_string={"code": code})
    assert_refused(response, demo_app, "Sign-in link not valid")


def test_replayed_state_is_refused(browser, auth_server, demo_app):
    callback = start_launch(browser, auth_server)
    assert browser.get(callback).status_code == 302
    [first] = sessions_rows(demo_app)
    replay = browser.get(callback)
    assert replay.status_code == 400
    assert "Sign-in link not valid" in replay.get_data(as_text=True)
    assert sessions_rows(demo_app) == [first]


def test_a_state_from_another_browser_is_refused(demo_app, auth_server):
    victim, attacker = demo_app.test_client(), demo_app.test_client()
    callback = start_launch(attacker, auth_server)
    assert_refused(victim.get(callback), demo_app, "Sign-in link not valid")


def test_an_error_from_the_ehr_is_shown(browser, auth_server, demo_app):
    callback = start_launch(browser, auth_server)
    state = callback.split("state=")[1].split("&")[0]
    response = browser.get(
        "/smart/callback",
        query_string={"state": state, "error": "access_denied", "error_description": "<b>No</b>"},
    )
    assert_refused(response, demo_app, "The EHR did not sign you in")
    assert "<b>No</b>" not in response.get_data(as_text=True)  # escaped


def test_unknown_iss_gets_a_400_page(browser):
    response = browser.get(
        "/smart/launch", query_string={"iss": "https://unknown-ehr.example/fhir", "launch": "x"}
    )
    assert response.status_code == 400
    assert "Unknown EHR" in response.get_data(as_text=True)


def test_a_launch_without_iss_or_launch_gets_a_400_page(browser):
    assert browser.get("/smart/launch").status_code == 400
    assert browser.get("/smart/launch", query_string={"iss": ISS}).status_code == 400


def test_the_ehr_refusing_the_code_shows_a_page(browser, auth_server, demo_app, transport):
    callback = start_launch(browser, auth_server)

    def break_verifier(request, response):
        if request.path_url.startswith(TOKEN_PATH):
            response.status_code = 400
            response._content = json.dumps({"error": "invalid_grant"}).encode()

    transport.rewrites.append(break_verifier)
    assert_refused(browser.get(callback), demo_app, "The EHR refused the sign-in")


def forge(transport, key, change: dict, *, signer=None) -> None:
    """Make the token endpoint's id_token carry changed claims, signed by `signer` or `key`."""

    def rewrite(request, response):
        if request.path_url.startswith(TOKEN_PATH) and response.status_code == 200:
            response._content = resign_id_token(response.content, key, change, signer=signer)

    transport.rewrites.append(rewrite)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"aud": "someone-else"}, "claim is wrong"),
        ({"exp": 1_000_000}, "expired"),
        ({"nonce": "replayed-nonce"}, "claim is wrong"),
        ({"iss": "https://other-issuer.example"}, "claim is wrong"),
        ({"iat": 4_000_000_000}, "claim is wrong"),
    ],
)
def test_a_bad_id_token_is_refused(browser, auth_server, demo_app, transport, change, reason):
    forge(transport, auth_server.credentials.signing_key, change)
    response = browser.get(start_launch(browser, auth_server))
    assert_refused(response, demo_app, "Sign-in could not be verified")
    assert reason in response.get_data(as_text=True)


def test_an_id_token_with_a_bad_signature_is_refused(browser, auth_server, demo_app, transport):
    impostor = RSAKey.generate_key(2048)
    forge(transport, auth_server.credentials.signing_key, {}, signer=impostor)
    response = browser.get(start_launch(browser, auth_server))
    assert_refused(response, demo_app, "signature could not be verified")


def test_a_missing_id_token_is_refused(browser, auth_server, demo_app, transport):
    def drop(request, response):
        if request.path_url.startswith(TOKEN_PATH):
            body = response.json()
            body.pop("id_token")
            response._content = json.dumps(body).encode()

    transport.rewrites.append(drop)
    assert_refused(browser.get(start_launch(browser, auth_server)), demo_app, "identity token")


def change_token_answer(transport, **fields) -> None:
    """Make the token endpoint's JSON answer carry other values for some fields."""

    def rewrite(request, response):
        if request.path_url.startswith(TOKEN_PATH) and response.status_code == 200:
            response._content = json.dumps({**response.json(), **fields}).encode()

    transport.rewrites.append(rewrite)


@pytest.mark.parametrize("expires_in", [[3600], {"s": 1}, "1e400"], ids=["list", "object", "text"])
def test_a_token_answer_with_an_odd_lifetime_is_a_page_not_a_server_error(
    browser, auth_server, demo_app, transport, expires_in
):
    """expires_in must be a number: a list, an object or text is a page saying so, no session."""
    change_token_answer(transport, expires_in=expires_in)
    response = browser.get(start_launch(browser, auth_server))
    assert response.status_code == 502
    assert "could not be read" in response.get_data(as_text=True)
    assert sessions_rows(demo_app) == []


def test_a_refresh_token_that_is_not_text_is_not_kept(browser, auth_server, demo_app, transport):
    """An object as refresh_token signs the clinician in, with no refresh token to seal."""
    change_token_answer(transport, refresh_token={"x": 1}, scope=["launch"])
    response = browser.get(start_launch(browser, auth_server))
    assert response.status_code == 302
    [row] = sessions_rows(demo_app)
    assert row["refresh_token"] is None


def test_a_lifetime_of_four_hundred_digits_signs_in_with_no_known_expiry(
    browser, auth_server, demo_app, transport
):
    """A number too large for a float is no lifetime: the session knows no expiry, no 500."""

    def rewrite(request, response):
        if request.path_url.startswith(TOKEN_PATH) and response.status_code == 200:
            body = response.content.decode().rstrip("}") + ', "expires_in": ' + "9" * 400 + "}"
            response._content = body.replace('"expires_in": 3600,', "").encode()

    transport.rewrites.append(rewrite)
    assert browser.get(start_launch(browser, auth_server)).status_code == 302
    [row] = sessions_rows(demo_app)
    assert row["access_expires_at"] is None

"""The demo SMART authorization server enforces what real EHRs enforce."""

from __future__ import annotations

import sqlite3

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from app.devtools import smart_auth
from tests.smart.helpers import (
    CALLBACK,
    ISS,
    authorize_params,
    new_launch,
    pkce_pair,
    query_of,
)

TOKEN = "/demo-ehr/auth/token"
AUTHORIZE = "/demo-ehr/auth/authorize"


def get_code(browser, server, **overrides) -> tuple[str, str]:
    """Authorize an EHR launch; return (code, code_verifier)."""
    verifier, challenge = pkce_pair()
    params = authorize_params(challenge, launch=new_launch(server), **overrides)
    response = browser.get(AUTHORIZE, query_string=params)
    assert response.status_code == 302, response.get_data(as_text=True)
    query = query_of(response.headers["Location"])
    assert query["state"] == params["state"]
    return query["code"], verifier


def exchange(browser, code: str, verifier: str | None, **extra):
    """Post an authorization_code token request for the public client."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": "bedside-demo",
        "code_verifier": verifier,
        **extra,
    }
    return browser.post(TOKEN, data={k: v for k, v in form.items() if v is not None})


def authorize_error(browser, server, **overrides) -> dict[str, str]:
    """Send a flawed request; return the error the server redirected back with."""
    _, challenge = pkce_pair()
    params = authorize_params(challenge, launch=new_launch(server), **overrides)
    response = browser.get(AUTHORIZE, query_string=params)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(CALLBACK)
    query = query_of(response.headers["Location"])
    assert "code" not in query
    return query


def test_smart_configuration_is_published_at_the_fhir_base(browser):
    config = browser.get("/fhir/.well-known/smart-configuration").json
    assert config["issuer"] == ISS
    assert config["authorization_endpoint"] == "http://localhost/demo-ehr/auth/authorize"
    assert config["token_endpoint"] == "http://localhost/demo-ehr/auth/token"
    assert config["jwks_uri"] == "http://localhost/demo-ehr/auth/jwks"
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert config["grant_types_supported"] == [
        "authorization_code",
        "refresh_token",
        "client_credentials",
    ]
    assert config["response_types_supported"] == ["code"]
    assert set(config["token_endpoint_auth_methods_supported"]) == {
        "none",
        "client_secret_basic",
        "private_key_jwt",
    }
    assert {"launch-ehr", "launch-standalone", "sso-openid-connect", "permission-v2"} <= set(
        config["capabilities"]
    )
    assert "launch/patient" in config["scopes_supported"]


def test_token_response_carries_context_and_a_valid_id_token(browser, auth_server):
    code, verifier = get_code(browser, auth_server)
    token = exchange(browser, code, verifier).json
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["patient"] == "sepsis-adult"
    assert token["encounter"] == "sepsis-adult-ed-visit"
    assert token["need_patient_banner"] is True
    assert token["refresh_token"]
    keys = KeySet.import_key_set(browser.get("/demo-ehr/auth/jwks").json)
    decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    assert decoded.header["alg"] == "RS256" and decoded.header["kid"]
    claims = decoded.claims
    assert claims["iss"] == ISS and claims["aud"] == "bedside-demo"
    assert claims["sub"] == "dr-ed-okafor" and claims["nonce"] == "n-123"
    assert claims["fhirUser"] == f"{ISS}/Practitioner/dr-ed-okafor"
    assert claims["exp"] > claims["iat"]


def test_token_response_passes_app_context_and_fhir_context_through(browser, auth_server):
    verifier, challenge = pkce_pair()
    launch = auth_server.create_launch(
        patient="uri-child",
        encounter=None,
        practitioner="dr-peds-lindqvist",
        need_patient_banner=False,
        app_context='{"module": "uri-antibiotics"}',
        fhir_context=[{"reference": "Encounter/uri-child-clinic-visit"}],
    )
    response = browser.get(AUTHORIZE, query_string=authorize_params(challenge, launch=launch))
    code = query_of(response.headers["Location"])["code"]
    token = exchange(browser, code, verifier).json
    assert token["appContext"] == '{"module": "uri-antibiotics"}'
    assert token["fhirContext"] == [{"reference": "Encounter/uri-child-clinic-visit"}]
    assert token["need_patient_banner"] is False
    assert "encounter" not in token


def test_missing_pkce_is_rejected(browser, auth_server):
    error = authorize_error(browser, auth_server, code_challenge=None, code_challenge_method=None)
    assert error["error"] == "invalid_request"


def test_plain_pkce_is_rejected(browser, auth_server):
    error = authorize_error(browser, auth_server, code_challenge_method="plain")
    assert error["error"] == "invalid_request"
    assert "S256" in error["error_description"]


def test_missing_code_verifier_is_rejected(browser, auth_server):
    code, _ = get_code(browser, auth_server)
    response = exchange(browser, code, None)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"


def test_wrong_code_verifier_is_rejected(browser, auth_server):
    code, _ = get_code(browser, auth_server)
    other_verifier, _ = pkce_pair()
    response = exchange(browser, code, other_verifier)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_grant"


def test_a_code_works_only_once(browser, auth_server):
    code, verifier = get_code(browser, auth_server)
    assert exchange(browser, code, verifier).status_code == 200
    assert exchange(browser, code, verifier).json["error"] == "invalid_grant"


def test_state_is_required(browser, auth_server):
    _, challenge = pkce_pair()
    params = authorize_params(challenge, launch=new_launch(auth_server), state=None)
    response = browser.get(AUTHORIZE, query_string=params)
    assert query_of(response.headers["Location"])["error"] == "invalid_request"


def test_aud_must_be_this_fhir_server(browser, auth_server):
    error = authorize_error(browser, auth_server, aud="https://other-ehr.example/fhir")
    assert error["error"] == "invalid_request"
    assert "aud" in error["error_description"]


def test_a_wrong_redirect_uri_gets_an_error_page_not_a_redirect(browser, auth_server):
    _, challenge = pkce_pair()
    for uri in ("http://evil.example/smart/callback", CALLBACK + "/", CALLBACK + "?x=1"):
        params = authorize_params(challenge, launch=new_launch(auth_server), redirect_uri=uri)
        response = browser.get(AUTHORIZE, query_string=params)
        assert response.status_code == 400
        assert "Location" not in response.headers


def test_the_redirect_uri_must_match_at_the_token_step(browser, auth_server):
    code, verifier = get_code(browser, auth_server)
    response = exchange(browser, code, verifier, redirect_uri="http://localhost/other")
    assert response.json["error"] == "invalid_grant"


def test_an_unknown_client_gets_an_error_page(browser, auth_server):
    _, challenge = pkce_pair()
    params = authorize_params(challenge, launch=new_launch(auth_server), client_id="nobody")
    assert browser.get(AUTHORIZE, query_string=params).status_code == 400


def test_an_unknown_launch_is_rejected(browser, auth_server):
    _, challenge = pkce_pair()
    params = authorize_params(challenge, launch="made-up")
    response = browser.get(AUTHORIZE, query_string=params)
    assert query_of(response.headers["Location"])["error"] == "invalid_request"


def test_an_expired_launch_is_rejected(browser, auth_server, monkeypatch):
    monkeypatch.setattr(smart_auth, "LAUNCH_SECONDS", -1)
    error = authorize_error(browser, auth_server)
    assert "expired" in error["error_description"]


def test_the_launch_scope_needs_a_launch_and_a_launch_needs_the_scope(browser, auth_server):
    _, challenge = pkce_pair()
    params = authorize_params(challenge)  # launch scope, no launch parameter
    response = browser.get(AUTHORIZE, query_string=params)
    assert query_of(response.headers["Location"])["error"] == "invalid_request"
    error = authorize_error(browser, auth_server, scope="openid patient/*.rs")
    assert error["error"] == "invalid_request"


def test_unregistered_scopes_are_dropped_from_the_grant(browser, auth_server):
    scope = "launch openid patient/*.rs patient/Observation.r system/*.cruds user/*.cruds"
    code, verifier = get_code(browser, auth_server, scope=scope)
    token = exchange(browser, code, verifier).json
    assert token["scope"].split() == ["launch", "openid", "patient/*.rs", "patient/Observation.r"]


def test_a_request_with_no_registered_scope_is_refused(browser, auth_server):
    _, challenge = pkce_pair()
    params = authorize_params(challenge, scope="system/*.cruds")
    response = browser.get(AUTHORIZE, query_string=params)
    assert query_of(response.headers["Location"])["error"] == "invalid_scope"


def test_no_refresh_token_without_offline_or_online_access(browser, auth_server):
    code, verifier = get_code(browser, auth_server, scope="launch openid patient/*.rs")
    token = exchange(browser, code, verifier).json
    assert "refresh_token" not in token
    assert "fhirUser" not in token


def test_refresh_rotates_the_refresh_token(browser, auth_server):
    code, verifier = get_code(browser, auth_server)
    first = exchange(browser, code, verifier).json
    form = {"grant_type": "refresh_token", "client_id": "bedside-demo"}
    second = browser.post(TOKEN, data={**form, "refresh_token": first["refresh_token"]}).json
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["patient"] == "sepsis-adult"
    again = browser.post(TOKEN, data={**form, "refresh_token": first["refresh_token"]})
    assert again.json["error"] == "invalid_grant"
    assert auth_server.validate_access_token(second["access_token"])


def test_access_tokens_expire(demo_app, browser, auth_server, monkeypatch):
    monkeypatch.setattr(auth_server, "token_seconds", 0)
    code, verifier = get_code(browser, auth_server)
    token = exchange(browser, code, verifier).json
    assert not auth_server.validate_access_token(token["access_token"])


def test_only_hashes_of_codes_and_tokens_are_stored(browser, auth_server, demo_app):
    code, verifier = get_code(browser, auth_server)
    token = exchange(browser, code, verifier).json
    dump = "\n".join(sqlite3.connect(demo_app.config["DATABASE"]).iterdump())
    for secret in (code, token["access_token"], token["refresh_token"]):
        assert secret not in dump


def test_revoking_tokens_locks_out_the_fhir_server(browser, auth_server):
    code, verifier = get_code(browser, auth_server)
    token = exchange(browser, code, verifier).json
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert browser.get("/fhir/Patient/sepsis-adult", headers=headers).status_code == 200
    auth_server.revoke_all_tokens()
    assert browser.get("/fhir/Patient/sepsis-adult", headers=headers).status_code == 401


@pytest.mark.parametrize("client_id", ["bedside-demo-confidential", "bedside-demo-jwt"])
def test_confidential_clients_cannot_skip_authentication(browser, auth_server, client_id):
    code, verifier = get_code(browser, auth_server, client_id=client_id)
    response = exchange(browser, code, verifier, client_id=client_id)
    assert response.status_code in {400, 401}
    assert response.json["error"] == "invalid_client"


def test_client_secret_basic_is_checked(browser, auth_server):
    client_id = "bedside-demo-confidential"
    code, verifier = get_code(browser, auth_server, client_id=client_id)
    wrong = exchange(browser, code, verifier, client_id=None)
    assert wrong.json["error"] == "invalid_client"
    code, verifier = get_code(browser, auth_server, client_id=client_id)
    secret = auth_server.credentials.client_secret
    response = browser.post(
        TOKEN,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(client_id, secret),
    )
    assert response.status_code == 200, response.json

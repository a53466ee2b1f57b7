"""EHR launch end to end in demo mode: launch → authorize → callback → session → FHIR reads."""

from __future__ import annotations

import json

from app.smart import current_smart_session, fhir_get
from app.smart.sessions import COOKIE_NAME
from tests.smart.conftest import build_demo_app
from tests.smart.helpers import (
    ISS,
    ehr_launch,
    location_path,
    new_launch,
    query_of,
    read_form,
    sessions_rows,
    set_cookies,
)


def test_ehr_launch_asks_for_pkce_state_aud_launch_and_scope(browser, auth_server):
    flow = ehr_launch(browser, auth_server)
    query = flow.authorize_query
    assert query["response_type"] == "code"
    assert query["client_id"] == "bedside-demo"
    assert query["redirect_uri"] == "http://localhost/smart/callback"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 22  # ≥ 128 bits, URL-safe base64
    assert query["aud"] == ISS
    assert query["launch"]
    assert query["nonce"]
    assert query["scope"].split()[:1] == ["launch"]
    assert {"openid", "fhirUser", "offline_access", "patient/Patient.rs"} <= set(
        query["scope"].split()
    )


def test_ehr_launch_stores_the_session_and_opens_the_app(browser, auth_server, demo_app):
    flow = ehr_launch(browser, auth_server)
    assert flow.callback.status_code == 302
    location = flow.callback.headers["Location"]
    assert location_path(location) == "/app/" and query_of(location)["launch"]
    [row] = sessions_rows(demo_app)
    assert row["patient"] == "sepsis-adult"
    assert row["encounter"] == "sepsis-adult-ed-visit"
    assert row["fhir_user"] == f"{ISS}/Practitioner/dr-ed-okafor"
    assert row["need_patient_banner"] == 1
    assert row["issuer"] == ISS


def test_app_context_with_a_module_opens_that_case(browser, auth_server):
    context = json.dumps({"module": "sepsis-bundle", "version": "1.0.0"})
    flow = ehr_launch(browser, auth_server, app_context=context)
    assert location_path(flow.callback.headers["Location"]) == "/app/case/sepsis-bundle"


def test_app_context_without_a_usable_module_opens_the_app_home(browser, auth_server):
    for context in ['{"module": "../../etc"}', "not json", '["module"]', '{"other": 1}']:
        flow = ehr_launch(browser, auth_server, app_context=context)
        assert location_path(flow.callback.headers["Location"]) == "/app/"


def test_session_cookie_is_opaque_httponly_and_lax(browser, auth_server, demo_app):
    flow = ehr_launch(browser, auth_server)
    [cookie] = [c for c in set_cookies(flow.callback) if c.startswith(f"{COOKIE_NAME}=")]
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert "secure" not in attributes  # plain http here; https requests get Secure
    [row] = sessions_rows(demo_app)
    value = cookie.split(";")[0].split("=", 1)[1]
    assert value not in json.dumps(row)  # only its hash is stored


def test_no_cookie_ever_carries_a_token(browser, auth_server, demo_app, transport):
    flow = ehr_launch(browser, auth_server)
    [token_response] = transport.responses_from("/demo-ehr/auth/token")
    token = token_response.json()
    secrets = [token["access_token"], token["refresh_token"], token["id_token"]]
    cookies = " ".join(set_cookies(*flow.responses()))
    for secret in secrets:
        assert secret not in cookies
        assert secret[:16] not in cookies


def test_fhir_get_reads_with_the_bearer_token(browser, auth_server, demo_app):
    ehr_launch(browser, auth_server)
    with demo_app.test_request_context(headers={"Cookie": cookie_header(browser)}):
        session = current_smart_session()
        assert session is not None and session.patient == "sepsis-adult"
        patient = fhir_get(session, f"Patient/{session.patient}")
        bundle = fhir_get(session, f"Condition?patient={session.patient}")
    assert patient["id"] == "sepsis-adult"
    assert bundle["resourceType"] == "Bundle"


def test_the_demo_fhir_server_refuses_requests_without_a_valid_token(browser, auth_server):
    assert browser.get("/fhir/Patient/sepsis-adult").status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert browser.get("/fhir/Patient/sepsis-adult", headers=bad).status_code == 401
    assert browser.get("/fhir/metadata").status_code == 200


def test_session_repr_never_shows_tokens_or_the_patient(browser, auth_server, demo_app):
    ehr_launch(browser, auth_server)
    with demo_app.test_request_context(headers={"Cookie": cookie_header(browser)}):
        session = current_smart_session()
    shown = repr(session)
    assert session.access_token not in shown
    assert session.refresh_token not in shown
    assert session.patient == "sepsis-adult"
    assert "sepsis-adult" not in shown
    assert session.encounter is None or session.encounter not in shown


def test_logout_deletes_the_session(browser, auth_server, demo_app):
    ehr_launch(browser, auth_server)
    form = read_form(browser.get("/smart/logout").get_data(as_text=True))
    response = browser.post("/smart/logout", data=form.fields)
    assert response.status_code == 302
    assert sessions_rows(demo_app) == []
    assert any(c.startswith(f"{COOKIE_NAME}=;") for c in set_cookies(response))


def test_a_second_launch_keeps_the_first_and_sign_out_ends_both(browser, auth_server, demo_app):
    ehr_launch(browser, auth_server)
    ehr_launch(browser, auth_server)
    first, second = sessions_rows(demo_app)
    assert first["browser_key"] == second["browser_key"]
    assert first["launch_id"] != second["launch_id"]
    form = read_form(browser.get("/smart/logout").get_data(as_text=True))
    browser.post("/smart/logout", data=form.fields)
    assert sessions_rows(demo_app) == []


def test_another_clinicians_launch_ends_the_browsers_earlier_ones(browser, auth_server, demo_app):
    ehr_launch(browser, auth_server)
    launch_id = new_launch(auth_server, practitioner="dr-hf-haddad")
    step = browser.get("/smart/launch", query_string={"iss": ISS, "launch": launch_id})
    for _ in range(3):
        step = browser.get(step.headers["Location"])
    [row] = sessions_rows(demo_app)
    assert row["fhir_user"] == f"{ISS}/Practitioner/dr-hf-haddad"


def cookie_header(browser) -> str:
    """The browser's Bedside session cookie as a Cookie header."""
    cookie = browser.get_cookie(COOKIE_NAME)
    return f"{COOKIE_NAME}={cookie.value}"


def test_behind_an_https_proxy_the_public_url_is_used_and_cookies_are_secure(
    instance_path, monkeypatch
):
    public = "https://bedside.example"
    app = build_demo_app(instance_path, monkeypatch, PUBLIC_BASE_URL=public)
    app.extensions["smart"].transport_adapters[f"{public}/"] = app.extensions["test_transport"]
    browser = app.test_client()
    server = app.extensions["demo_auth"]
    launch = browser.get(
        "/smart/launch",
        query_string={"iss": f"{public}/fhir", "launch": new_launch(server)},
        base_url=public,
    )
    query = query_of(launch.headers["Location"])
    assert query["redirect_uri"] == f"{public}/smart/callback"
    assert query["aud"] == f"{public}/fhir"
    authorize = browser.get(launch.headers["Location"])
    callback = browser.get(authorize.headers["Location"])
    assert callback.status_code == 302
    [cookie] = [c for c in set_cookies(callback) if c.startswith(f"{COOKIE_NAME}=")]
    assert "secure" in [part.strip().lower() for part in cookie.split(";")]


def test_the_demo_ehr_can_mint_tokens_for_cds_hooks_fhir_authorization(browser, auth_server):
    token = auth_server.issue_access_token(patient="sepsis-adult")
    assert token["token_type"] == "Bearer" and token["subject"] == "bedside-cds"
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert browser.get("/fhir/Patient/sepsis-adult", headers=headers).status_code == 200


def test_the_demo_ehr_launch_button_reaches_the_case(browser, demo_app):
    context = json.dumps({"module": "sepsis-hour-1-bundle", "version": "1.0.0"})
    minted = browser.post(
        "/demo-ehr/api/patients/sepsis-adult/launch", json={"appContext": context}
    )
    assert minted.status_code == 200, minted.get_data(as_text=True)
    url = minted.json["url"]
    assert url.startswith("http://localhost/launch.html?")
    params = query_of(url)  # launch.js forwards exactly these two to /smart/launch
    launch = browser.get(
        "/smart/launch", query_string={"iss": params["iss"], "launch": params["launch"]}
    )
    authorize = browser.get(launch.headers["Location"])
    callback = browser.get(authorize.headers["Location"])
    assert location_path(callback.headers["Location"]) == "/app/case/sepsis-hour-1-bundle"
    [row] = sessions_rows(demo_app)
    assert row["patient"] == "sepsis-adult" and json.loads(row["app_context"]) == json.loads(
        context
    )

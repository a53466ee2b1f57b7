"""Standalone launch: sign in at the demo EHR simulator and pick a patient there."""

from __future__ import annotations

from tests.smart.helpers import (
    ISS,
    location_path,
    query_of,
    read_form,
    sessions_rows,
    set_cookies,
    stored_sessions,
)


def open_sign_in(browser):
    """Start a standalone launch and load the simulator's sign-in page."""
    launch = browser.get("/smart/standalone", query_string={"iss": ISS})
    assert launch.status_code == 302
    page = browser.get(launch.headers["Location"])
    assert page.status_code == 200
    return launch, page


def test_standalone_launch_asks_for_launch_patient_without_a_launch_id(browser):
    launch, _ = open_sign_in(browser)
    query = query_of(launch.headers["Location"])
    scopes = query["scope"].split()
    assert scopes[0] == "launch/patient" and "launch" not in scopes
    assert "launch" not in query
    assert query["aud"] == ISS and query["code_challenge_method"] == "S256"


def test_the_sign_in_page_is_labelled_and_lists_the_fixture_patients(browser):
    _, page = open_sign_in(browser)
    html = page.get_data(as_text=True)
    assert "Demo EHR sign-in (simulator)" in html
    form = read_form(html)
    assert {"sepsis-adult", "uri-child", "hfref-adult"} <= set(form.radios["patient"])
    assert form.fields["csrf_token"]
    assert form.fields["code_challenge_method"] == "S256"


def test_approving_with_a_patient_completes_the_launch(browser, demo_app):
    _, page = open_sign_in(browser)
    form = read_form(page.get_data(as_text=True))
    data = {**form.fields, "patient": "uri-child", "decision": "approve"}
    approved = browser.post("/demo-ehr/auth/authorize", data=data)
    assert approved.status_code == 302
    callback = browser.get(approved.headers["Location"])
    assert callback.status_code == 302 and location_path(callback.headers["Location"]) == "/app/"
    [row] = sessions_rows(demo_app)
    assert row["patient"] == "uri-child"
    assert row["need_patient_banner"] == 1
    assert row["encounter"] is None
    [session] = stored_sessions(demo_app)
    assert session.access_token not in " ".join(set_cookies(page, approved, callback))


def test_approving_without_the_csrf_token_is_refused(browser, demo_app):
    _, page = open_sign_in(browser)
    form = read_form(page.get_data(as_text=True))
    data = {**form.fields, "patient": "uri-child", "decision": "approve", "csrf_token": "forged"}
    response = browser.post("/demo-ehr/auth/authorize", data=data)
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_a_patient_not_in_the_list_is_refused(browser):
    _, page = open_sign_in(browser)
    form = read_form(page.get_data(as_text=True))
    data = {**form.fields, "patient": "someone-else", "decision": "approve"}
    assert browser.post("/demo-ehr/auth/authorize", data=data).status_code == 400


def test_denying_returns_access_denied_and_stores_nothing(browser, demo_app):
    _, page = open_sign_in(browser)
    form = read_form(page.get_data(as_text=True))
    denied = browser.post("/demo-ehr/auth/authorize", data={**form.fields, "decision": "deny"})
    assert query_of(denied.headers["Location"])["error"] == "access_denied"
    callback = browser.get(denied.headers["Location"])
    assert callback.status_code == 400
    assert "did not sign you in" in callback.get_data(as_text=True)
    assert sessions_rows(demo_app) == []


def test_standalone_in_demo_mode_defaults_to_the_demo_ehr(browser):
    launch = browser.get("/smart/standalone")
    assert launch.status_code == 302
    assert query_of(launch.headers["Location"])["aud"] == ISS

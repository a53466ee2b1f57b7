"""CSRF on every /app form (only there), 401 without a session, no patient data in the ledger."""

from __future__ import annotations

import json

from app.ledger.store import SqlLedgerStore, ledger_database
from app.ledger.wiring import Ledger
from app.settings import REPO_ROOT
from tests.smart.conftest import build_demo_app
from tests.smart.helpers import set_cookies
from tests.ui.helpers import (
    PATIENT_WORDS,
    SEPSIS,
    answer_all,
    count_rows,
    get,
    launch,
    post,
    result_url,
    start_case,
    token,
)
from tests.ui.test_poc_cycle import APPLICATION, ask, read_and_record

CDS_FIXTURE = (
    REPO_ROOT
    / "fhir_fixtures/cds_requests/sepsis-hour-1-bundle/fires-demo-ceftriaxone-no-cultures.json"
)


def test_a_form_post_without_the_token_is_refused_and_records_nothing(ui_app, browser, auth_server):
    launch(browser, auth_server, SEPSIS)
    for url in (f"/app/case/{SEPSIS}/start", "/app/poc/new"):
        for data in ({}, {"csrf_token": "forged"}):
            response = browser.post(url, data={"question": "Lactate repeat?", **data})
            assert response.status_code == 400
            assert "nothing was recorded" in response.get_data(as_text=True)
    assert count_rows(ui_app, "ledger_attempts") == 0


def test_answers_and_results_need_the_token_too(ui_app, browser, auth_server, sepsis):
    launch(browser, auth_server, SEPSIS)
    first = start_case(browser)
    assert browser.post(first, data={"option": "b"}).status_code == 400
    assert count_rows(ui_app, "ledger_answers") == 0
    answer_all(browser, first, sepsis, correctly=True)
    assert browser.post(result_url(first)).status_code == 400
    assert count_rows(ui_app, "ledger_credits") == 0


def test_a_token_from_another_browser_is_refused(ui_app, auth_server):
    alice, mallory = ui_app.test_client(), ui_app.test_client()
    launch(alice, auth_server, SEPSIS)
    launch(mallory, auth_server, SEPSIS)
    mallorys_token = token(get(mallory, f"/app/case/{SEPSIS}"))
    response = alice.post(f"/app/case/{SEPSIS}/start", data={"csrf_token": mallorys_token})
    assert response.status_code == 400
    assert count_rows(ui_app, "ledger_attempts") == 0


def test_other_blueprints_keep_working_without_a_token(instance_path, monkeypatch):
    app = build_demo_app(instance_path, monkeypatch, CDS_AUTH="off")
    client = app.test_client()
    hook = json.loads(CDS_FIXTURE.read_text(encoding="utf-8"))["request"]
    response = client.post("/cds-services/bedside-order-select", json=hook)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "cards" in response.get_json()
    reset = client.post("/demo-ehr/api/patients/sepsis-adult/reset")
    assert reset.status_code == 200
    assert client.post("/smart/logout").status_code == 400  # sign-out is CSRF-checked too


def test_every_app_page_needs_a_launched_session(browser):
    for url in ("/app/", f"/app/case/{SEPSIS}", "/app/poc/new", "/app/transcript"):
        page = get(browser, url, status=401)
        assert "Open Bedside from your EHR" in page
        assert "/smart/standalone" in page  # demo mode offers the standalone sign-in
    response = browser.post(f"/app/case/{SEPSIS}/start")
    assert response.status_code == 401
    assert "Open Bedside from your EHR" in response.get_data(as_text=True)


def test_pages_are_private_and_under_the_strict_csp(browser, auth_server):
    launch(browser, auth_server, SEPSIS)
    response = browser.get(f"/app/case/{SEPSIS}")
    assert response.headers["Cache-Control"] == "no-store"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_the_ledger_file_never_holds_the_patient(instance_path, monkeypatch, sepsis_module):
    app = build_demo_app(instance_path, monkeypatch)
    ledger_file = instance_path / "ledger-only.db"
    key = str(app.config["LEDGER_IDENTITY_KEY"]).encode()
    policy = app.extensions["ledger"].policy
    store = SqlLedgerStore(ledger_database(ledger_file), identity_key=key)
    app.extensions["ledger"] = Ledger(store, policy)
    browser = app.test_client()
    launch(browser, app.extensions["demo_auth"], SEPSIS)
    first = start_case(browser)
    post(browser, result_url(first), answer_all(browser, first, sepsis_module, correctly=True))
    apply_url = read_and_record(browser, ask(browser), "now")
    post(browser, apply_url, get(browser, apply_url), **APPLICATION)
    assert "Maeve" in get(browser, "/app/transcript")  # the banner shows her; the ledger must not
    app.extensions["ledger"].store.close()
    stored = b"".join(path.read_bytes() for path in instance_path.glob("ledger-only.db*"))
    assert b"poc:sepsis-hour-1-bundle" in stored and b"case:sepsis-hour-1-bundle" in stored
    for word in PATIENT_WORDS:
        assert word.encode() not in stored, word


def test_the_session_cookie_holding_the_csrf_token_is_lax_and_httponly(browser, auth_server):
    launch(browser, auth_server)
    response = browser.get("/app/poc/new")
    [cookie] = [c for c in set_cookies(response) if c.startswith("session=")]
    assert "samesite=lax" in cookie.lower() and "httponly" in cookie.lower()

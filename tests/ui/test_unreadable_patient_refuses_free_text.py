"""When the EHR cannot give the launched Patient, free text is refused: its names go unchecked."""

from __future__ import annotations

import re
import sqlite3
from html import unescape

import pytest

from tests.ui.helpers import SEPSIS, count_rows, get, launch, post, token

QUESTION = "Maeve Harlow lactate 4: cultures before ceftriaxone?"


def patient_read_fails_with(status: int):
    """A transport rewrite: every Patient read answers this status (503 down, 403 no scope)."""

    def fail_patient(request, response):
        if "/fhir/Patient/" in request.url:
            response.status_code = status
            response._content = b'{"resourceType": "OperationOutcome"}'

    return fail_patient


def rows_naming_harlow(app) -> list[tuple[str, tuple]]:
    """Every row of every table of the app's database that holds the patient's family name."""
    connection = sqlite3.connect(app.config["DATABASE"])
    try:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return [
            (table, row)
            for (table,) in tables.fetchall()
            for row in connection.execute(f'SELECT * FROM "{table}"')
            if "harlow" in repr(row).lower()
        ]
    finally:
        connection.close()


@pytest.mark.parametrize("status", [503, 403])
def test_a_point_of_care_question_is_refused_while_the_patient_cannot_be_read(
    ui_app, browser, auth_server, transport, status
):
    launch(browser, auth_server)
    transport.rewrites.append(patient_read_fails_with(status))
    form = get(browser, "/app/poc/new")
    data = {"csrf_token": token(form), "question": QUESTION, "reason": "diagnostic-dilemma"}
    refused = browser.post("/app/poc/new", data=data)
    assert refused.status_code == 502
    assert "Try again" in refused.get_data(as_text=True)
    assert count_rows(ui_app, "ledger_attempts") == 0
    assert count_rows(ui_app, "ledger_answers") == 0
    assert rows_naming_harlow(ui_app) == []


def test_once_the_patient_can_be_read_again_a_clean_question_is_accepted(
    browser, auth_server, transport
):
    launch(browser, auth_server)
    transport.rewrites.append(patient_read_fails_with(503))
    form = get(browser, "/app/poc/new")
    clean = {"question": "Lactate 4: cultures before ceftriaxone?", "reason": "diagnostic-dilemma"}
    refused = browser.post("/app/poc/new", data={"csrf_token": token(form), **clean})
    assert refused.status_code == 502
    transport.rewrites.clear()
    post(browser, "/app/poc/new", get(browser, "/app/poc/new"), **clean)


def test_a_discussion_post_is_refused_while_the_patient_cannot_be_read(
    ui_app, browser, auth_server, transport
):
    launch(browser, auth_server)
    post(browser, "/app/discuss/name", get(browser, "/app/discuss/name"), name="Dr Okafor ED")
    page = get(browser, f"/app/discuss/{SEPSIS}")
    transport.rewrites.append(patient_read_fails_with(503))
    body = "HARLOW, MAEVE in bay 4: lactate 4.1, cultures drawn after antibiotics. Thoughts?"
    data = {"csrf_token": token(page), "title": "Lactate timing question", "body": body}
    refused = browser.post(f"/app/discuss/{SEPSIS}", data=data)
    assert refused.status_code == 502
    assert "Try again" in refused.get_data(as_text=True)
    assert rows_naming_harlow(ui_app) == []


def resent_fields(html: str) -> tuple[str, dict[str, str]]:
    """The error page's send-again form: where it posts and the fields it carries."""
    pattern = r'<form method="post" action="([^"]+)" class="send-again">(.*?)</form>'
    form = re.search(pattern, html, re.S)
    assert form, "no send-again form on the error page"
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2))
    return unescape(form.group(1)), {unescape(name): unescape(value) for name, value in fields}


def test_a_refused_post_keeps_what_was_typed_and_sends_it_again_once_the_patient_is_readable(
    ui_app, browser, auth_server, transport
):
    launch(browser, auth_server)
    post(browser, "/app/discuss/name", get(browser, "/app/discuss/name"), name="Dr Okafor ED")
    page = get(browser, f"/app/discuss/{SEPSIS}")
    transport.rewrites.append(patient_read_fails_with(503))
    body = 'Lactate 4.1 & "cultures" <after> antibiotics: thoughts?'
    data = {"csrf_token": token(page), "title": "Lactate timing", "body": body}
    refused = browser.post(f"/app/discuss/{SEPSIS}", data=data)
    assert refused.status_code == 502
    action, fields = resent_fields(refused.get_data(as_text=True))
    assert fields == data and action.startswith(f"/app/discuss/{SEPSIS}")
    transport.rewrites.clear()
    sent = browser.post(action, data=fields)
    assert sent.status_code == 303
    assert "Lactate timing" in get(browser, f"/app/discuss/{SEPSIS}")

"""Helpers for driving the /app pages: launches, forms with CSRF tokens, page checks."""

from __future__ import annotations

import json
import re
import sqlite3

from werkzeug.test import TestResponse

from tests.smart.helpers import ISS, ehr_launch, new_launch, read_form

SEPSIS = "sepsis-hour-1-bundle"
FHIR_USER = f"{ISS}/Practitioner/dr-ed-okafor"
PATIENT_WORDS = ("sepsis-adult", "Harlow", "Maeve", "SYN-SEP", "1958-07-22", "dr-ed-okafor")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def launch(browser, server, module: str | None = None) -> TestResponse:
    """Launch Bedside from the demo EHR for the sepsis patient; return the callback."""
    context = json.dumps({"module": module, "version": "1.0.0"}) if module else None
    flow = ehr_launch(browser, server, app_context=context)
    assert flow.callback.status_code == 302, flow.callback.get_data(as_text=True)
    return flow.callback


def launch_as(browser, server, practitioner: str) -> None:
    """Launch Bedside from the demo EHR for the sepsis patient, signed in as another clinician."""
    launch_id = new_launch(server, practitioner=practitioner)
    step = browser.get("/smart/launch", query_string={"iss": ISS, "launch": launch_id})
    for _ in range(2):
        assert step.status_code == 302, step.get_data(as_text=True)
        step = browser.get(step.headers["Location"])
    assert step.status_code == 302, step.get_data(as_text=True)


def text(response: TestResponse) -> str:
    """A page's HTML, after checking it is clean for the strict CSP."""
    html = response.get_data(as_text=True)
    assert_no_inline_code(html)
    return html


def assert_no_inline_code(html: str) -> None:
    """No inline scripts, style attributes, <style> elements or event handlers."""
    assert not INLINE_SCRIPT.search(html)
    assert not STYLE_ATTRIBUTE.search(html)
    assert "<style" not in html.lower()
    assert not EVENT_HANDLER.search(html)


def get(browser, url: str, status: int = 200, **kwargs) -> str:
    """GET a page, check its status and cleanliness, return its HTML."""
    response = browser.get(url, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert "Content-Security-Policy" in response.headers
    return text(response)


def token(html: str) -> str:
    """The CSRF token of a page's form."""
    return read_form(html).fields["csrf_token"]


def post(browser, url: str, page_html: str, status: int = 303, **data) -> TestResponse:
    """POST a form with the CSRF token taken from the page that shows it."""
    response = browser.post(url, data={"csrf_token": token(page_html), **data})
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response


def section(html: str, css_class: str) -> str:
    """The first element whose class attribute starts with css_class, to its closing tag."""
    match = re.search(rf'<(\w+) class="{css_class}[^"]*"[^>]*>(.*?)</\1>', html, re.DOTALL)
    assert match, f"no element with class {css_class}"
    return match.group(2)


def ledger_store(app):
    """The app's ledger store."""
    return app.extensions["ledger"].store


def learner(app) -> str:
    """The demo clinician's learner id."""
    return ledger_store(app).ensure_learner(ISS, FHIR_USER)


def count_rows(app, table: str) -> int:
    """How many rows a ledger table holds."""
    connection = sqlite3.connect(app.config["DATABASE"])
    try:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        connection.close()


def write_transactions(app) -> int:
    """How many write transactions the app's ledger store has run (committed or attempted)."""
    return ledger_store(app)._writer.batches


def ledger_rows(app) -> dict[str, int]:
    """The row count of every ledger table a finish or a claim writes to."""
    tables = ("ledger_credits", "ledger_submissions", "ledger_answers", "ledger_attempts")
    return {table: count_rows(app, table) for table in tables}


def start_case(browser, module_id: str = SEPSIS) -> str:
    """Open a case's intro, press Start, return the first question's URL."""
    intro = get(browser, f"/app/case/{module_id}")
    response = post(browser, f"/app/case/{module_id}/start", intro)
    return response.headers["Location"]


def answer_all(browser, first_url: str, module: dict, *, correctly: bool) -> str:
    """Answer every question (right or wrong) and return the last feedback page's HTML."""
    url, html = first_url, ""
    for question in module["case"]["questions"]:
        page = get(browser, url)
        wrong = next(o["id"] for o in question["options"] if o["id"] != question["answer"])
        choice = question["answer"] if correctly else wrong
        post(browser, url, page, option=choice)
        html = get(browser, url)
        assert ("Correct." in html) is correctly
        url = re.sub(r"/q/(\d+)", lambda m: f"/q/{int(m.group(1)) + 1}", url)
    return html


def result_url(first_url: str) -> str:
    """The result URL of the attempt whose first question is first_url."""
    return re.sub(r"/q/1(?=$|\?)", "/result", first_url)


def unbound(url: str) -> str:
    """A URL without its launch id (such a URL opens the browser's latest launch)."""
    return re.sub(r"[?&]launch=[^&]*$", "", re.sub(r"([?&])launch=[^&]*&", r"\1", url))

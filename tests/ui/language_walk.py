"""A full learner session rendered in one language: every learner page and certificate it shows.

The Spanish and French page tests walk the same session (a case, a point-of-care cycle, a name
for certificates, a review due) and search each page for English text left untranslated.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from app.learning.profile_store import AnswerEvent
from tests.ui.helpers import SEPSIS, get, launch, learner, post, result_url, start_case
from tests.ui.test_certificates import NAME
from tests.ui.test_poc_cycle import APPLICATION, ask

PAGES_AFTER_THE_SESSION = {
    "home": "/app/",
    "profile": "/app/profile",
    "what next": "/app/next",
    "transcript": "/app/transcript",
    "delete": "/app/profile/delete",
    "printable transcript": "/ledger/transcript",
    "certificate": "/ledger/certificates/1",
    "period certificate": "/ledger/certificates/period",
}


def learner_pages_in(
    language: str, right: str, ui_app, browser, auth_server, module: dict
) -> dict[str, str]:
    """Every learner page and certificate after a full session, in a language ("Exact.": right)."""
    launch(browser, auth_server, SEPSIS)
    get(browser, "/app/", query_string={"lang": language})  # the choice is kept in a cookie
    first = start_case(browser)
    pages = {"case intro": get(browser, f"/app/case/{SEPSIS}"), "question": get(browser, first)}
    pages["feedback"] = answer_all(browser, first, module, right)
    result = post(browser, result_url(first), pages["feedback"]).headers["Location"]
    pages["result"] = get(browser, result)
    pages.update(point_of_care_pages(browser))
    profile = get(browser, "/app/profile")
    post(browser, "/app/profile/certificate-name", profile, **NAME, consent="yes")
    past = datetime.now(UTC) - timedelta(days=1)
    ui_app.extensions["learning"].apply_answer(
        learner(ui_app), AnswerEvent("a-due", SEPSIS, "q1", False, "low", past)
    )
    for name, url in PAGES_AFTER_THE_SESSION.items():
        pages[name] = get(browser, url)
    return pages


def point_of_care_pages(browser) -> dict[str, str]:
    """A point-of-care cycle from the question to the application, each page as shown."""
    pages = {"poc new": get(browser, "/app/poc/new")}
    search = ask(browser)
    pages["poc search"] = get(browser, search, query_string={"q": "sepsis"})
    read_url = search.replace("/search", f"/read/{SEPSIS}")
    pages["poc read"] = get(browser, read_url)
    apply_url = post(browser, read_url, pages["poc read"], next="now").headers["Location"]
    pages["poc apply"] = get(browser, apply_url)
    done = post(browser, apply_url, pages["poc apply"], **APPLICATION).headers["Location"]
    pages["poc done"] = get(browser, done)
    return pages


def answer_all(browser, first: str, module: dict, right: str) -> str:
    """Answer every question right; each feedback says so in the page's language."""
    url, html = first, ""
    for number, question in enumerate(module["case"]["questions"], start=1):
        url = re.sub(r"/q/\d+$", f"/q/{number}", url)
        post(browser, url, get(browser, url), option=question["answer"])
        html = get(browser, url)
        assert right in html
    return html

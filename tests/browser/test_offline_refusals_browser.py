"""Answers kept offline that the server refuses, in real Chromium: kept or dropped, never "sent".

An answer refused because the learner must sign in again (the 8-hour session ended, or the form's
CSRF token is no longer valid) stays on the device and is sent after the next launch; one the
server can never accept leaves the device and the status line names it.
"""

from __future__ import annotations

import sqlite3

from tests.browser.test_offline_browser import (
    OFFLINE,
    QUESTIONS,
    QUEUED,
    QUEUED_ENTRIES,
    answer,
    assert_status,
    on_last_question,
    open_case_without_patient,
)

SIGN_IN = "Your sign-in has ended, so the answers saved on this device were not accepted yet."
SENT = "The answers saved on this device were sent."
REFUSED = "An answer saved on this device was not accepted."
LAST = f"Question {len(QUESTIONS)} of {len(QUESTIONS)}"

MOVE_TO_UNKNOWN_ATTEMPT = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("bedside-offline", 1);
  open.onsuccess = () => {
    const tx = open.result.transaction("answers", "readwrite");
    const store = tx.objectStore("answers");
    const read = store.getAll();
    read.onsuccess = () => read.result.forEach(entry =>
      store.put({...entry, url: entry.url.replace(/attempt\\/[^/]+/, "attempt/no-such-attempt")}));
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  };
})"""


def test_an_answer_refused_for_an_ended_sign_in_stays_and_is_sent_once_after_a_relaunch(
    phone, demo_server
):
    answer_last_question_offline(phone, demo_server)
    end_every_sign_in(demo_server)
    posted = posted_answers(phone)
    phone.context.set_offline(False)
    assert_status(phone, SIGN_IN)
    assert SENT not in phone.inner_text("#offline-status")
    assert len(phone.evaluate(QUEUED_ENTRIES)) == 1
    assert len(recorded_answers(phone, demo_server)) == len(QUESTIONS) - 1
    attempt_page = phone.url

    phone.reload()  # the relaunch page: the answer still waits on the device
    assert_status(phone, SIGN_IN)
    assert len(phone.evaluate(QUEUED_ENTRIES)) == 1

    open_case_without_patient(phone, demo_server)  # the learner opens Bedside again
    assert_status(phone, SENT)
    assert phone.evaluate(QUEUED_ENTRIES) == []
    assert len(recorded_answers(phone, demo_server, attempt_page)) == len(QUESTIONS)
    assert posted == [401, 303]  # refused while signed out, then accepted once


def test_an_answer_refused_for_its_csrf_token_alone_stays_until_a_fresh_page_sends_it(
    phone, demo_server
):
    answer_last_question_offline(phone, demo_server)
    phone.context.clear_cookies(name="session")  # Flask's session, where the CSRF secret lives
    posted = posted_answers(phone)
    phone.context.set_offline(False)
    assert_status(phone, SIGN_IN)
    assert len(phone.evaluate(QUEUED_ENTRIES)) == 1
    assert posted == [400]

    phone.reload()  # a page fetched now carries a valid token: the kept answer goes with it
    phone.wait_for_selector(".feedback")
    assert phone.evaluate(QUEUED_ENTRIES) == []
    assert len(recorded_answers(phone, demo_server)) == len(QUESTIONS)


def test_an_answer_that_can_never_be_accepted_is_dropped_named_and_never_called_sent(
    phone, demo_server
):
    answer_last_question_offline(phone, demo_server)
    phone.evaluate(MOVE_TO_UNKNOWN_ATTEMPT)
    posted = posted_answers(phone)
    phone.context.set_offline(False)
    assert_status(phone, REFUSED)
    shown = phone.inner_text("#offline-status")
    assert LAST in shown and SENT not in shown
    assert posted == [404]
    assert phone.evaluate(QUEUED_ENTRIES) == []


def answer_last_question_offline(phone, server) -> None:
    """Answer all but the last question online, then the last one offline (it is queued)."""
    on_last_question(phone, server)
    phone.context.set_offline(True)
    assert_status(phone, OFFLINE)
    phone.reload()
    answer(phone, QUESTIONS[-1])
    assert_status(phone, QUEUED)


def end_every_sign_in(server) -> None:
    """Let every SMART session run out, as the 8-hour lifetime does overnight."""
    database = sqlite3.connect(server.app.config["DATABASE"])
    with database:
        database.execute("UPDATE smart_sessions SET expires_at = 1")
    database.close()


def posted_answers(phone) -> list[int]:
    """The status of every answer POST the page sends from now on (filled in as they arrive)."""
    statuses: list[int] = []
    phone.on(
        "response",
        lambda response: (
            statuses.append(response.status)
            if response.request.method == "POST" and "/q/" in response.url
            else None
        ),
    )
    return statuses


def recorded_answers(phone, server, attempt_page: str | None = None) -> list:
    """The answers the server's ledger holds for the attempt of a question page."""
    attempt = (attempt_page or phone.url).split("/attempt/")[1].split("/")[0]
    return server.app.extensions["ledger"].store.answers(attempt)

"""Offline on a phone, in real Chromium (issue #20 item 2): kept pages, queued answers, one credit.

The service worker keeps the pages a learner opened (and their "What next" cases, each with its
guideline summary) when the server marks them free of patient data, so these flows launch with no
patient in context; a page with the patient banner stays network-only. Answers given offline wait
in IndexedDB and are sent on reconnection, where the ledger's keys make every resend harmless.
Sign-out leaves nothing of the learner behind.
"""

from __future__ import annotations

import json

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.browser.test_demo_ehr_browser import open_case_from_card
from tests.browser.test_learning_loop import SEPSIS, answer_every_question
from tests.support.chromium import open_page

OFFLINE = "You are offline."
QUEUED = "Offline: your answer is saved on this device"
QUESTIONS = SEPSIS["case"]["questions"]
PHONE = {"width": 390, "height": 844}


def test_an_answer_given_offline_is_sent_on_reconnection_and_earns_one_credit(phone, demo_server):
    on_last_question(phone, demo_server)
    phone.context.set_offline(True)
    assert_status(phone, OFFLINE)
    phone.reload()  # offline: the kept copy of the question
    assert question_text(QUESTIONS[-1]) in phone.inner_text("main")
    answer(phone, QUESTIONS[-1])
    assert_status(phone, QUEUED)
    phone.reload()  # still queued after a reload, the form closed
    assert_status(phone, QUEUED)
    assert phone.locator("form[data-offline-queue] button").is_disabled()
    assert credits(demo_server) == []

    phone.context.set_offline(False)  # first reconnection: the answer is sent
    phone.wait_for_selector(".feedback")
    phone.context.set_offline(True)  # offline again: "See your result" is queued too
    phone.click("form[data-offline-queue] button.primary")
    assert_status(phone, QUEUED)
    assert credits(demo_server) == []
    phone.context.set_offline(False)  # second reconnection: the claim is sent
    phone.wait_for_url("**/result?launch=*")
    assert "Recorded in your transcript." in phone.inner_text("main")
    assert len(credits(demo_server)) == 1


def test_a_claim_sent_twice_still_counts_once(phone, demo_server):
    on_last_question(phone, demo_server)
    answer(phone, QUESTIONS[-1])
    phone.wait_for_selector(".feedback")
    phone.context.set_offline(True)
    phone.click("form[data-offline-queue] button.primary")
    assert_status(phone, QUEUED)
    claim = phone.evaluate(QUEUED_ENTRIES)[0]
    phone.context.set_offline(False)
    phone.wait_for_url("**/result?launch=*")
    # A resend of the same claim, as after a reply lost on the way back: replayed, not re-credited.
    phone.evaluate(REQUEUE, {**claim, "page": phone.url})
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    phone.wait_for_url("**/result?*replayed=1*")
    assert "counted once" in phone.inner_text("main")
    assert len(credits(demo_server)) == 1
    assert phone.evaluate(QUEUED_ENTRIES) == []


def test_a_page_with_the_patient_banner_is_never_kept_on_the_device(phone, demo_server):
    open_case_from_card(phone, demo_server.url)  # the EHR launch names a patient
    wait_for_worker(phone)
    phone.reload()  # now through the worker
    assert phone.locator(".patient-banner .patient-name").is_visible()
    phone.click("nav.ui-nav a[href*='/app/next']")
    phone.wait_for_selector(".recommendations")
    for url in (
        phone.url,
        demo_server.url + phone.locator(".recommendations h2 a").first.get_attribute("href"),
    ):
        assert not phone.evaluate(STORED, url), url
    assert phone.evaluate(KEPT_CACHES) == []


def test_what_next_cases_and_their_guideline_summaries_are_readable_offline(phone, demo_server):
    open_case_without_patient(phone, demo_server)
    wait_for_worker(phone)
    phone.click("nav.ui-nav a[href*='/app/next']")
    first = phone.locator(".recommendations h2 a").first
    title, href = first.inner_text(), first.get_attribute("href")
    assert phone.evaluate(KEPT, demo_server.url + href)
    phone.context.set_offline(True)
    phone.click(f".recommendations h2 a[href='{href}']")
    assert title in phone.inner_text("h1")
    phone.click("details.guideline-summary-fold > summary")
    assert "Key recommendation" in phone.inner_text("details.guideline-summary-fold")
    phone.goto(demo_server.url + "/app/transcript")  # never opened: said so, in words
    assert "Not saved for offline reading" in phone.inner_text("h1")


def test_signing_out_leaves_no_page_or_answer_of_the_learner_on_the_device(phone, demo_server):
    on_last_question(phone, demo_server)
    question_url = phone.url
    phone.context.set_offline(True)
    answer(phone, QUESTIONS[-1])
    assert_status(phone, QUEUED)
    phone.context.set_offline(False)
    phone.wait_for_selector(".feedback")
    phone.click("form.ui-account button")
    phone.wait_for_url(demo_server.url + "/")
    assert phone.evaluate(KEPT_CACHES) == []
    phone.context.set_offline(True)
    try:
        phone.goto(question_url)
        shown = phone.inner_text("body")
    except PlaywrightError:  # nothing kept: the browser's own offline error
        shown = ""
    assert question_text(QUESTIONS[-1]) not in shown and "Harlow" not in shown


def test_with_javascript_off_a_case_is_completed_and_earns_credit(chromium, request, demo_server):
    page = open_page(chromium, request, java_script_enabled=False, viewport=PHONE)
    fetched = []
    page.on("request", lambda each: fetched.append((each.resource_type, each.url)))
    page.goto(f"{demo_server.url}/smart/standalone")
    page.check("input[name='patient'][value='sepsis-adult']")
    page.click("button[value='approve']")
    page.wait_for_url("**/app/?launch=*")
    page.click(f"a[href^='/app/case/{SEPSIS['id']}?']")
    page.click("button.primary")  # start: every form posts as plain HTML
    answer_every_question(page, correctly=True)
    page.wait_for_url("**/result?launch=*")
    assert "Recorded in your transcript." in page.inner_text("main")
    assert len(credits(demo_server)) == 1
    images = {url for kind, url in fetched if kind == "image"}
    assert images <= {f"{demo_server.url}/static/favicon.svg"}  # no image beyond the tiny icon
    assert all(url.startswith(demo_server.url) for _, url in fetched)  # nothing third-party


def open_case_without_patient(page, server) -> None:
    """Launch from the EHR into the sepsis case with no patient in context (so no banner)."""
    launch_id = server.app.extensions["demo_auth"].create_launch(
        patient="",
        encounter=None,
        practitioner="dr-ed-okafor",
        need_patient_banner=False,
        app_context=json.dumps({"module": SEPSIS["id"], "version": SEPSIS["version"]}),
    )
    with page.expect_navigation(url="**/app/case/**"):
        page.goto(f"{server.url}/smart/launch?iss={server.url}/fhir&launch={launch_id}")


def on_last_question(page, server) -> None:
    """Launch with no patient, start the case and answer all but its last question, online."""
    open_case_without_patient(page, server)
    wait_for_worker(page)
    page.click("button.primary")  # start
    for question in QUESTIONS[:-1]:
        answer(page, question)
        page.wait_for_selector(".feedback")
        page.click("a.button.primary")  # Next question
    page.wait_for_selector("form[data-offline-queue]")


def wait_for_worker(page) -> None:
    """Wait until the service worker controls the page (it then keeps every page opened)."""
    page.evaluate(CONTROLLED)


def answer(page, question: dict) -> None:
    """Choose the best answer and submit it."""
    page.check(f"input[name='option'][value='{question['answer']}']")
    page.click("form[data-offline-queue] button.primary")


def question_text(question: dict) -> str:
    """A question's stem as the English page shows it."""
    return question["stem"]["en"]


def assert_status(page, words: str) -> None:
    """The offline status line says these words (it is a polite live region)."""
    status = page.locator("#offline-status")
    assert status.get_attribute("aria-live") == "polite"
    expect(status).to_contain_text(words)


def credits(server) -> list:
    """The credit records in the server's ledger."""
    store = server.app.extensions["ledger"].store
    return [record for record in store.iter_chain() if record.kind == "credit"]


QUEUED_ENTRIES = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("bedside-offline", 1);
  open.onsuccess = () => {
    const read = open.result.transaction("answers").objectStore("answers").getAll();
    read.onsuccess = () => resolve(read.result);
    read.onerror = () => reject(read.error);
  };
})"""

REQUEUE = """entry => new Promise((resolve, reject) => {
  const open = indexedDB.open("bedside-offline", 1);
  open.onsuccess = () => {
    const copy = {...entry}; delete copy.id;
    const tx = open.result.transaction("answers", "readwrite");
    tx.objectStore("answers").add(copy);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  };
})"""

# Page scripts run under the strict CSP (no eval), so waits are promises, never polled strings.
CONTROLLED = """async () => {
  await navigator.serviceWorker.ready;
  if (navigator.serviceWorker.controller) return;
  await new Promise(done =>
    navigator.serviceWorker.addEventListener("controllerchange", done, {once: true}));
}"""

KEPT = """async url => {
  for (let tries = 0; tries < 100; tries++) {
    for (const name of await caches.keys()) {
      const cache = name.startsWith("bedside-pages-") && await caches.open(name);
      if (cache && await cache.match(url)) return true;
    }
    await new Promise(done => setTimeout(done, 100));
  }
  return false;
}"""

STORED = """async url => Boolean(await caches.match(url))"""

KEPT_CACHES = """async () =>
  (await caches.keys()).filter(name => name.startsWith("bedside-pages-"))"""

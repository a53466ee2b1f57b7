"""What the server gives the offline worker: its scope, the manifest, one cache name per sign-in."""

from __future__ import annotations

import json

from app.smart.sessions import COOKIE_NAME
from app.ui.offline import CACHE_HEADER, KEEP, KEEP_HEADER
from tests.smart.helpers import ISS, new_launch, query_of, read_form
from tests.ui.helpers import SEPSIS, get, launch, launch_as, start_case

# The pages the offline feature keeps: home, case intro and question, "What next", the fallback.
READABLE = ("/app/", f"/app/case/{SEPSIS}", "/app/next", "/app/offline")


def test_the_worker_may_control_the_app_and_is_always_revalidated(browser):
    worker, script = static_headers(browser, "sw.js"), static_headers(browser, "offline.js")
    assert worker["Service-Worker-Allowed"] == "/app/"
    assert worker["Cache-Control"] == "no-cache"
    assert "Service-Worker-Allowed" not in script


def test_the_manifest_is_served_as_one_with_the_tiny_icon(browser):
    with browser.get("/static/manifest.webmanifest") as response:
        assert response.headers["Content-Type"].startswith("application/manifest+json")
        manifest = json.loads(response.get_data(as_text=True))
    assert manifest["scope"] == manifest["start_url"] == "/app/"
    assert [icon["src"] for icon in manifest["icons"]] == ["/static/favicon.svg"]


def test_app_pages_link_the_manifest_and_the_same_origin_script(browser, auth_server):
    bound = query_of(launch(browser, auth_server).headers["Location"])["launch"]
    for path in ("/app/", f"/app/case/{SEPSIS}", "/app/next"):
        page = get(browser, f"{path}?launch={bound}")
        assert '<link rel="manifest" href="/static/manifest.webmanifest">' in page
        assert '<script src="/static/offline.js" defer></script>' in page
    assert "offline.js" not in get(browser, "/")  # pages outside /app need no script
    policy = browser.get("/app/").headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "worker" not in policy  # workers fall back to self


def test_app_pages_name_one_cache_for_the_sign_in_and_never_the_cookie(browser, auth_server):
    first = launch(browser, auth_server).headers["Location"]
    response = browser.get(first)
    key = response.headers[CACHE_HEADER]
    assert len(key) == 32 and f'data-cache="{key}"' in response.get_data(as_text=True)
    again = launch(browser, auth_server).headers["Location"]  # a second tab: the same learner
    assert browser.get(again).headers[CACHE_HEADER] == key
    cookie = browser.get_cookie(COOKIE_NAME).value
    assert cookie not in response.get_data(as_text=True) and cookie not in key


def test_another_clinician_or_a_sign_out_gets_another_cache(browser, auth_server):
    key = browser.get(launch(browser, auth_server).headers["Location"]).headers[CACHE_HEADER]
    launch_as(browser, auth_server, "dr-hf-haddad")
    assert browser.get("/app/").headers[CACHE_HEADER] != key
    page = get(browser, "/app/")
    browser.post("/smart/logout", data=read_form(page).fields)
    signed_out = browser.get("/app/")
    assert signed_out.status_code == 401 and CACHE_HEADER not in signed_out.headers
    assert 'data-cache=""' in signed_out.get_data(as_text=True)  # the page script drops it all
    relaunched = launch(browser, auth_server).headers["Location"]
    assert browser.get(relaunched).headers[CACHE_HEADER] != key


def test_the_case_intro_carries_its_guideline_summary_for_offline_reading(browser, auth_server):
    bound = query_of(launch(browser, auth_server).headers["Location"])["launch"]
    page = get(browser, f"/app/case/{SEPSIS}?launch={bound}")
    fold = page[page.index('<details class="guideline-summary-fold">') :]
    assert "Key recommendation" in fold and "Surviving Sepsis Campaign 2026" in fold


def test_the_page_shown_for_what_was_not_kept_is_translated(browser, auth_server):
    launch(browser, auth_server)
    assert "Not saved for offline reading" in get(browser, "/app/offline")
    assert "No guardada para leer sin conexión" in get(browser, "/app/offline?lang=es")


def test_pages_in_a_patients_context_are_never_marked_for_keeping(browser, auth_server):
    launch(browser, auth_server)
    question = start_case(browser)
    assert "Harlow" in get(browser, question)  # the banner (and the facts panel) name the patient
    for path in (*READABLE, question, "/app/profile/export", "/app/transcript"):
        response = browser.get(path)
        assert response.status_code == 200, path
        assert CACHE_HEADER in response.headers and KEEP_HEADER not in response.headers, path


def test_pages_without_a_patient_are_marked_when_their_view_shows_no_patient_data(
    browser, auth_server
):
    launch_without_patient(browser, auth_server)
    question = start_case(browser)
    assert "Harlow" not in get(browser, question)
    for path in (*READABLE, question):
        assert browser.get(path).headers.get(KEEP_HEADER) == KEEP, path
    for path in ("/app/profile/export", "/app/transcript", "/app/profile"):
        response = browser.get(path)
        assert response.status_code == 200 and KEEP_HEADER not in response.headers, path
    assert KEEP_HEADER not in browser.get("/app/case/no-such-module").headers  # a 404


def launch_without_patient(browser, auth_server) -> None:
    """Launch Bedside from the demo EHR with no patient in context (so no banner, no facts)."""
    launch_id = new_launch(auth_server, patient="", encounter=None, need_patient_banner=False)
    step = browser.get("/smart/launch", query_string={"iss": ISS, "launch": launch_id})
    for _ in range(3):
        assert step.status_code == 302, step.get_data(as_text=True)
        step = browser.get(step.headers["Location"])


def static_headers(browser, filename: str) -> dict:
    """The headers a static file is served with (its file closed afterwards)."""
    with browser.get(f"/static/{filename}") as response:
        assert response.status_code == 200
        return dict(response.headers)

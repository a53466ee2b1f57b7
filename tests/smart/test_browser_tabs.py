"""Launches in several tabs of one browser: each finishes, and lives as long as its own session.

Sign-ins in progress are bound to the browser by a cookie a finished sign-in never replaces; the
session cookie names the browser's group of launches, not the latest one.
"""

from __future__ import annotations

import dataclasses

import pytest

from app.smart.pending import SIGNIN_COOKIE
from app.smart.sessions import COOKIE_NAME, SmartSession, same_clinician
from tests.smart.helpers import ISS, ehr_launch, execute, new_launch, query_of, set_cookies


@pytest.fixture
def smart_database_url(database_url):
    """Run these tests on both engines: the SMART stores' SQL is shared."""
    return database_url


def start(browser, server, patient: str = "sepsis-adult"):
    """Open Bedside from the EHR for a patient and follow the EHR's authorize step."""
    launch_id = new_launch(server, patient=patient, encounter=None)
    launch = browser.get("/smart/launch", query_string={"iss": ISS, "launch": launch_id})
    assert launch.status_code == 302, launch.get_data(as_text=True)
    return browser.get(launch.headers["Location"])


def finish(browser, authorized) -> str:
    """Return to Bedside with the EHR's answer; the tab's first page (bound to its launch)."""
    callback = browser.get(authorized.headers["Location"])
    assert callback.status_code == 302, callback.get_data(as_text=True)
    return callback.headers["Location"]


def overlapping_launches(browser, server) -> tuple[str, str]:
    """Two tabs start a launch before either finishes; return each tab's first page."""
    first, second = start(browser, server), start(browser, server, patient="hfref-adult")
    return finish(browser, first), finish(browser, second)


def test_two_launches_in_flight_in_a_fresh_browser_both_finish(browser, auth_server):
    first_tab, second_tab = overlapping_launches(browser, auth_server)
    assert query_of(first_tab)["launch"] != query_of(second_tab)["launch"]
    assert browser.get(first_tab).status_code == 200
    assert browser.get(second_tab).status_code == 200


def test_two_launches_in_flight_in_a_signed_in_browser_both_finish(browser, auth_server):
    ehr_launch(browser, auth_server)
    first_tab, second_tab = overlapping_launches(browser, auth_server)
    assert browser.get(first_tab).status_code == 200
    assert browser.get(second_tab).status_code == 200


def test_the_latest_tabs_session_ending_leaves_the_other_tab_signed_in(
    browser, auth_server, demo_app
):
    first_tab = finish(browser, start(browser, auth_server))
    second_tab = finish(browser, start(browser, auth_server, patient="hfref-adult"))
    execute(
        demo_app,
        "UPDATE smart_sessions SET access_expires_at = 0, refresh_token = NULL "
        f"WHERE launch_id = '{query_of(second_tab)['launch']}'",
    )
    ended = browser.get(second_tab)
    assert ended.status_code == 401 and "Please relaunch" in ended.get_data(as_text=True)
    assert not any(c.startswith(f"{COOKIE_NAME}=;") for c in set_cookies(ended))
    assert browser.get(first_tab).status_code == 200
    assert browser.get("/app/").status_code == 200  # unbound: the browser's launch still open


def test_finishing_a_sign_in_keeps_the_browsers_sign_in_binding(browser, auth_server):
    authorized = start(browser, auth_server)
    binding = browser.get_cookie(SIGNIN_COOKIE, path="/smart").value
    callback = browser.get(authorized.headers["Location"])
    assert not any(c.startswith(f"{SIGNIN_COOKIE}=") for c in set_cookies(callback))
    assert browser.get_cookie(SIGNIN_COOKIE, path="/smart").value == binding
    assert browser.get_cookie(COOKIE_NAME).value != binding


def test_a_session_cookie_naming_no_launch_is_never_adopted(browser, auth_server):
    browser.set_cookie(COOKIE_NAME, "planted-by-someone-else")
    ehr_launch(browser, auth_server)
    assert browser.get_cookie(COOKIE_NAME).value != "planted-by-someone-else"
    assert browser.get("/app/").status_code == 200


def test_launches_naming_no_user_are_never_the_same_clinician():
    nobody = SmartSession(ISS, "bedside", f"{ISS}/token", "launch", "a", None, None, patient="p")
    named = dataclasses.replace(nobody, fhir_user=f"{ISS}/Practitioner/1")
    assert not same_clinician(nobody, dataclasses.replace(nobody, patient="q"))
    assert not same_clinician(nobody, named)
    assert same_clinician(named, dataclasses.replace(named, patient="q"))

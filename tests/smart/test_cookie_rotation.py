"""Each sign-in gives the browser a fresh session cookie: a copied one stops opening the group.

The value a sign-in came with keeps working for ROTATED_COOKIE_GRACE_SECONDS (another tab's
request already in flight), then opens nothing; the group's offline cache key never changes.
The store's clock is moved instead of sleeping.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from app.database import Database, parse_database_url, role_script
from app.db import close_stores
from app.rate_limits import learner_session_key
from app.smart.sessions import (
    COOKIE_NAME,
    ROTATED_COOKIE_GRACE_SECONDS,
    SCHEMA,
    SmartSessionStore,
    hash_session_id,
)
from app.smart.token_cipher import TokenCipher
from app.ui.offline import CACHE_HEADER, keyed_digest
from tests.smart.conftest import build_demo_app
from tests.smart.helpers import ISS, ehr_launch, execute, new_launch, query_of
from tests.support.smart_sessions import smart_session


class Clock:
    """The sessions store's clock: the real time, moved on by the test."""

    def __init__(self):
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


@pytest.fixture
def smart_database_url(database_url):
    """Run these tests on both engines: the SMART stores' SQL is shared."""
    return database_url


@pytest.fixture
def clock(demo_app) -> Clock:
    """The demo app's sessions store reads this clock."""
    moved = Clock()
    demo_app.extensions["smart"].sessions.clock = moved
    return moved


def signed_in_tab(browser, server) -> str:
    """Launch Bedside from the EHR as the default clinician; the tab's first page."""
    callback = ehr_launch(browser, server).callback
    assert callback.status_code == 302, callback.get_data(as_text=True)
    return callback.headers["Location"]


def cookie_of(browser) -> str:
    """The browser's session cookie value."""
    return browser.get_cookie(COOKIE_NAME).value


def holding(app, cookie: str):
    """Another client holding a copy of a session cookie."""
    client = app.test_client()
    client.set_cookie(COOKIE_NAME, cookie)
    return client


def test_a_cookie_copied_before_a_later_sign_in_opens_nothing_after_the_grace(
    browser, auth_server, demo_app, clock
):
    first_tab = signed_in_tab(browser, auth_server)
    copied = cookie_of(browser)
    second_tab = signed_in_tab(browser, auth_server)
    clock.ahead = ROTATED_COOKIE_GRACE_SECONDS + 1
    thief = holding(demo_app, copied)
    assert [thief.get(tab).status_code for tab in (first_tab, second_tab, "/app/")] == [401] * 3
    assert cookie_of(browser) != copied
    assert browser.get(first_tab).status_code == browser.get(second_tab).status_code == 200


def test_within_the_grace_the_retired_cookie_still_opens_the_group(
    browser, auth_server, demo_app, clock
):
    first_tab = signed_in_tab(browser, auth_server)
    in_flight = cookie_of(browser)
    second_tab = signed_in_tab(browser, auth_server)
    clock.ahead = ROTATED_COOKIE_GRACE_SECONDS - 1
    other_tab = holding(demo_app, in_flight)
    assert other_tab.get(first_tab).status_code == other_tab.get(second_tab).status_code == 200


def test_a_later_sign_in_never_extends_an_earlier_cookies_grace(
    browser, auth_server, demo_app, clock
):
    signed_in_tab(browser, auth_server)
    copied = cookie_of(browser)
    signed_in_tab(browser, auth_server)
    clock.ahead = ROTATED_COOKIE_GRACE_SECONDS - 1
    browser.set_cookie(COOKIE_NAME, copied)  # a callback sent before the first one's answer
    third_tab = signed_in_tab(browser, auth_server)
    clock.ahead = ROTATED_COOKIE_GRACE_SECONDS + 1
    assert holding(demo_app, copied).get(third_tab).status_code == 401
    assert browser.get(third_tab).status_code == 200


def test_two_sign_ins_at_once_leave_the_browser_signed_in_whichever_cookie_it_kept(
    browser, auth_server, demo_app, clock
):
    signed_in_tab(browser, auth_server)
    before = cookie_of(browser)
    first_tab = signed_in_tab(browser, auth_server)
    first_answer = cookie_of(browser)
    browser.set_cookie(COOKIE_NAME, before)  # both callbacks left with the same cookie
    second_tab = signed_in_tab(browser, auth_server)
    browser.set_cookie(COOKIE_NAME, first_answer)  # the first answer arrived last
    clock.ahead = ROTATED_COOKIE_GRACE_SECONDS + 1
    assert browser.get(first_tab).status_code == browser.get(second_tab).status_code == 200
    assert holding(demo_app, before).get("/app/").status_code == 401


def test_the_second_tabs_launch_keeps_the_offline_cache_key_past_the_grace(
    browser, auth_server, clock
):
    first_tab = signed_in_tab(browser, auth_server)
    key = browser.get(first_tab).headers[CACHE_HEADER]
    second_tab = signed_in_tab(browser, auth_server)
    clock.ahead = ROTATED_COOKIE_GRACE_SECONDS + 1
    assert browser.get(second_tab).headers[CACHE_HEADER] == key
    assert browser.get(first_tab).headers[CACHE_HEADER] == key


def test_a_launch_stored_before_groups_had_ids_keeps_its_cookie_and_cache_key(
    browser, auth_server, demo_app, clock
):
    first_tab = signed_in_tab(browser, auth_server)
    execute(demo_app, "UPDATE smart_sessions SET group_id = NULL")  # as the release before wrote
    execute(demo_app, "DELETE FROM smart_browser_keys")
    old_cookie = cookie_of(browser)
    key = browser.get(first_tab).headers[CACHE_HEADER]
    with demo_app.test_request_context():
        assert key == keyed_digest(f"bedside-offline-cache:{hash_session_id(old_cookie)}")
    second_tab = signed_in_tab(browser, auth_server)
    clock.ahead = ROTATED_COOKIE_GRACE_SECONDS + 1
    assert browser.get(second_tab).headers[CACHE_HEADER] == key
    assert browser.get(first_tab).headers[CACHE_HEADER] == key
    assert holding(demo_app, old_cookie).get(first_tab).status_code == 401


def test_a_rotation_on_host_a_is_seen_by_host_b(
    browser, auth_server, demo_app, clock, instance_path, monkeypatch, database_url
):
    first_tab = signed_in_tab(browser, auth_server)
    copied = cookie_of(browser)
    host_b = build_demo_app(instance_path, monkeypatch, DATABASE_URL=database_url)
    try:
        host_b.extensions["smart"].sessions.clock = clock
        on_b = holding(host_b, copied)
        launch = on_b.get(
            "/smart/launch", query_string={"iss": ISS, "launch": new_launch(auth_server)}
        )
        callback = on_b.get(on_b.get(launch.headers["Location"]).headers["Location"])
        second_tab = callback.headers["Location"]
        clock.ahead = ROTATED_COOKIE_GRACE_SECONDS + 1
        assert holding(demo_app, copied).get(first_tab).status_code == 401
        assert holding(demo_app, cookie_of(on_b)).get(first_tab).status_code == 200
        assert holding(host_b, cookie_of(on_b)).get(second_tab).status_code == 200
        assert query_of(second_tab)["launch"] != query_of(first_tab)["launch"]
    finally:
        close_stores(host_b)


def test_a_retired_cookie_past_its_grace_is_rate_limited_by_address(
    browser, auth_server, demo_app, clock
):
    signed_in_tab(browser, auth_server)
    copied = cookie_of(browser)
    signed_in_tab(browser, auth_server)
    headers = {"Cookie": f"{COOKIE_NAME}={copied}"}
    with demo_app.test_request_context("/app/", headers=headers):
        assert learner_session_key().startswith("session:")
    clock.ahead = ROTATED_COOKIE_GRACE_SECONDS + 1
    with demo_app.test_request_context("/app/", headers=headers):
        assert learner_session_key().startswith("address:")


def test_signing_in_again_keeps_the_browsers_rate_limit_budget(browser, auth_server, demo_app):
    signed_in_tab(browser, auth_server)
    before = cookie_of(browser)
    signed_in_tab(browser, auth_server)
    keys = []
    for cookie in (before, cookie_of(browser)):
        headers = {"Cookie": f"{COOKIE_NAME}={cookie}"}
        with demo_app.test_request_context("/app/", headers=headers):
            keys.append(learner_session_key())
    assert keys[0].startswith("session:") and keys[0] == keys[1]


def test_an_application_role_with_the_printed_grants_rotates_and_signs_out(postgres_url):
    owner = Database(parse_database_url(postgres_url))
    cipher = TokenCipher("grants-test-key")
    SmartSessionStore(owner, cipher)
    with owner.write() as connection:
        connection.execute(text("CREATE ROLE bedside_smart LOGIN"))
        connection.exec_driver_sql(role_script([SCHEMA], "bedside_smart"))
    as_app = Database(parse_database_url(postgres_url.replace("://postgres@", "://bedside_smart@")))
    try:
        store = SmartSessionStore(as_app, cipher)
        clinician = smart_session(ISS, fhir_user="Practitioner/dr-ed-okafor")
        first, _ = store.create(clinician)
        second, stored = store.create(clinician, first)
        assert store.load(second) == stored
        store.delete_key(stored.session_key)
        store.end_browser(second)
        assert store.load(first) is None and store.load(second) is None
    finally:
        as_app.dispose()
        with owner.write() as connection:
            connection.execute(text("DROP OWNED BY bedside_smart"))
            connection.execute(text("DROP ROLE bedside_smart"))
        owner.dispose()

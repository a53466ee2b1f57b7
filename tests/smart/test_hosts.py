"""Two Bedside hosts behind one load balancer: a launch finished on one is good on the other.

Both hosts share the database (DATABASE_URL) and the SMART token key; the demo EHR they talk
to keeps its own state in the instance folder, which the two hosts share here as one EHR.
"""

from __future__ import annotations

import pytest

from app.db import close_stores
from app.smart.pending import SIGNIN_COOKIE
from app.smart.sessions import COOKIE_NAME
from tests.smart.conftest import build_demo_app
from tests.smart.helpers import ISS, ehr_launch, new_launch, sessions_rows


@pytest.fixture
def host_a(instance_path, monkeypatch, database_url):
    """Host A on the shared database."""
    app = build_demo_app(instance_path, monkeypatch, DATABASE_URL=database_url)
    yield app
    close_stores(app)


def start_host_b(instance_path, monkeypatch, database_url, **config):
    """Host B: its own app and engine on the same database."""
    return build_demo_app(instance_path, monkeypatch, DATABASE_URL=database_url, **config)


def test_a_launch_completed_on_host_a_is_valid_on_host_b(
    host_a, instance_path, monkeypatch, database_url
):
    browser = host_a.test_client()
    ehr_launch(browser, host_a.extensions["demo_auth"])
    host_b = start_host_b(instance_path, monkeypatch, database_url)
    try:
        client = host_b.test_client()
        client.set_cookie(COOKIE_NAME, browser.get_cookie(COOKIE_NAME).value)
        assert client.get("/app/").status_code == 200
        assert len(sessions_rows(host_b)) == 1  # the one row, in the database both name
    finally:
        close_stores(host_b)


def test_a_callback_replayed_on_host_b_is_refused(host_a, instance_path, monkeypatch, database_url):
    browser = host_a.test_client()
    callback = ehr_launch(browser, host_a.extensions["demo_auth"]).callback.request.url
    host_b = start_host_b(instance_path, monkeypatch, database_url)
    try:
        client = host_b.test_client()
        client.set_cookie(COOKIE_NAME, browser.get_cookie(COOKIE_NAME).value)
        replay = client.get(callback)
        assert replay.status_code == 400
        assert "Sign-in link not valid" in replay.get_data(as_text=True)
    finally:
        close_stores(host_b)


def test_a_callback_arriving_at_host_b_completes_the_launch_host_a_began(
    host_a, instance_path, monkeypatch, database_url
):
    browser = host_a.test_client()
    launch = browser.get(
        "/smart/launch",
        query_string={"iss": ISS, "launch": new_launch(host_a.extensions["demo_auth"])},
    )
    authorize = browser.get(launch.headers["Location"])
    host_b = start_host_b(instance_path, monkeypatch, database_url)
    try:
        client = host_b.test_client()
        binding = browser.get_cookie(SIGNIN_COOKIE, path="/smart").value
        client.set_cookie(SIGNIN_COOKIE, binding, path="/smart")
        assert client.get(authorize.headers["Location"]).status_code == 302
        assert client.get("/app/").status_code == 200
    finally:
        close_stores(host_b)


def test_host_b_with_another_token_key_asks_for_a_relaunch(
    host_a, instance_path, monkeypatch, database_url
):
    browser = host_a.test_client()
    ehr_launch(browser, host_a.extensions["demo_auth"])
    host_b = start_host_b(
        instance_path, monkeypatch, database_url, SMART_TOKEN_KEY="not-the-shared-key"
    )
    try:
        client = host_b.test_client()
        client.set_cookie(COOKIE_NAME, browser.get_cookie(COOKIE_NAME).value)
        page = client.get("/app/")
        assert page.status_code == 401
        assert "Open Bedside from your EHR" in page.get_data(as_text=True)
        assert sessions_rows(host_b) == sessions_rows(host_a) == []
    finally:
        close_stores(host_b)

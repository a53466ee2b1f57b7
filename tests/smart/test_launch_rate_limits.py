"""Launches are rate-limited per address; a made-up session cookie buys no budget of its own."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import text

from app.database import app_database
from app.db import close_stores
from app.smart.sessions import COOKIE_NAME
from tests.smart.conftest import build_demo_app
from tests.smart.helpers import ISS, ehr_launch

OTHER_ADDRESS = {"REMOTE_ADDR": "127.0.0.9"}


@pytest.fixture
def limited_app(instance_path, monkeypatch):
    """Bedside in demo mode allowing 2 app pages and 2 launch steps a minute per key."""
    app = build_demo_app(instance_path, monkeypatch, APP_RATE_LIMIT="2 per minute")
    yield app
    close_stores(app)


def pending_requests(app) -> int:
    """How many authorization requests are stored, waiting for their answer."""
    with app_database(app).read() as connection:
        return connection.execute(text("SELECT COUNT(*) FROM smart_pending")).scalar_one()


def launch(client):
    """Start an EHR launch (the launch id need not exist: Bedside only forwards it)."""
    return client.get("/smart/launch", query_string={"iss": ISS, "launch": "any"})


def test_launches_from_one_address_are_limited_and_store_nothing_beyond(limited_app):
    browser = limited_app.test_client()
    assert [launch(browser).status_code for _ in range(3)] == [302, 302, 429]
    assert pending_requests(limited_app) == 2
    other = limited_app.test_client()
    other.environ_base.update(OTHER_ADDRESS)
    assert launch(other).status_code == 302  # another address has a budget of its own


def test_a_new_made_up_session_cookie_per_request_shares_the_address_budget(limited_app):
    browser = limited_app.test_client()
    statuses = []
    for _ in range(3):
        browser.set_cookie(COOKIE_NAME, secrets.token_urlsafe(16))
        statuses.append(browser.get("/app/").status_code)
    assert statuses == [401, 401, 429]


def test_a_live_session_keeps_its_own_budget_when_its_address_is_spent(limited_app):
    browser = limited_app.test_client()
    ehr_launch(browser, limited_app.extensions["demo_auth"])
    stranger = limited_app.test_client()
    assert [stranger.get("/app/").status_code for _ in range(3)] == [401, 401, 429]
    assert browser.get("/app/").status_code == 200

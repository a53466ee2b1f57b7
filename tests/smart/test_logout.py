"""Signing out needs Bedside's own form: a cross-site POST or a plain link changes nothing."""

from __future__ import annotations

import pytest

from app.smart.sessions import COOKIE_NAME
from tests.smart.helpers import ehr_launch, read_form, sessions_rows, set_cookies


@pytest.fixture
def smart_database_url(database_url):
    """Run these tests on both engines: the SMART stores' SQL is shared."""
    return database_url


def test_the_sign_out_form_carries_a_csrf_token_and_ends_the_session(
    browser, auth_server, demo_app
):
    ehr_launch(browser, auth_server)
    page = browser.get("/smart/logout")
    assert page.status_code == 200
    form = read_form(page.get_data(as_text=True))
    assert form.fields["csrf_token"]
    assert len(sessions_rows(demo_app)) == 1  # showing the form ends nothing
    response = browser.post("/smart/logout", data=form.fields)
    assert response.status_code == 302
    assert sessions_rows(demo_app) == []
    assert any(c.startswith(f"{COOKIE_NAME}=;") for c in set_cookies(response))


def test_a_post_without_the_token_keeps_the_session(browser, auth_server, demo_app):
    ehr_launch(browser, auth_server)
    response = browser.post("/smart/logout")
    assert response.status_code == 400
    assert "Sign-out not confirmed" in response.get_data(as_text=True)
    assert len(sessions_rows(demo_app)) == 1
    assert not any(c.startswith(f"{COOKIE_NAME}=") for c in set_cookies(response))
    assert browser.get("/app/").status_code == 200


def test_a_token_from_another_browser_is_refused(browser, auth_server, demo_app):
    ehr_launch(browser, auth_server)
    mallory = demo_app.test_client()
    ehr_launch(mallory, auth_server)
    mallorys_form = read_form(mallory.get("/smart/logout").get_data(as_text=True))
    response = browser.post("/smart/logout", data=mallorys_form.fields)
    assert response.status_code == 400
    assert len(sessions_rows(demo_app)) == 2


def test_without_a_session_the_sign_out_link_goes_home(browser):
    response = browser.get("/smart/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"

"""Opting in on the learner profile: a typed address, a confirmation mail, confirm, stop."""

from __future__ import annotations

import logging
import re

import pytest

from app.db import close_stores
from app.deployment import EXTENSION as DEPLOYMENT
from app.deployment import Deployment
from tests.delivery.conftest import smtp_url
from tests.smart.conftest import build_demo_app
from tests.ui.helpers import get, launch, learner, post

ADDRESS = "chinwe.okafor@example.org"
FORM = {"time_zone": "Europe/Madrid", "quiet_start": "22", "quiet_end": "7", "min_hours": "48"}


@pytest.fixture
def ui_app(instance_path, monkeypatch, inbox):
    """Demo Bedside with /app, mailing through the loopback SMTP server."""
    app = build_demo_app(instance_path, monkeypatch, SMTP_URL=smtp_url(inbox.port))
    yield app
    close_stores(app)


@pytest.fixture
def browser(ui_app):
    """A signed-in browser-like client."""
    client = ui_app.test_client()
    launch(client, ui_app.extensions["demo_auth"])
    return client


def test_opting_in_mails_a_confirmation_and_only_the_link_starts_the_questions(
    ui_app, browser, inbox, caplog
):
    caplog.set_level(logging.DEBUG)
    page = get(browser, "/app/profile")
    assert 'name="email" type="email"' in page and 'autocomplete="email" value=""' in page

    post(browser, "/app/profile/email", page, email=ADDRESS, **FORM)

    store = ui_app.extensions["delivery"]
    subscription = store.subscription(learner(ui_app))
    assert subscription.status == "pending"
    assert (subscription.preferences.time_zone, subscription.preferences.min_hours) == (
        "Europe/Madrid",
        48,
    )
    [mail] = inbox.to(ADDRESS)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://localhost(/mail/confirm\?\S+)", text).group(1)  # the request's
    assert "Waiting for you to follow the confirmation link" in get(browser, "/app/profile")
    anonymous = ui_app.test_client()  # the mail may be opened on another device
    assert anonymous.get(link).status_code == 200
    assert store.subscription(learner(ui_app)).status == "pending"
    assert anonymous.post(link).status_code == 200
    assert store.subscription(learner(ui_app)).status == "active"
    bedside_logs = [r.getMessage() for r in caplog.records if r.name != "mail.log"]  # not aiosmtpd
    assert not any(ADDRESS in line for line in bedside_logs)


def test_a_bad_address_or_time_zone_reshows_the_page_with_a_message(browser, inbox):
    page = get(browser, "/app/profile")
    bad_address = post(browser, "/app/profile/email", page, status=400, email="nope", **FORM)
    assert "Enter an e-mail address" in bad_address.text
    form = {**FORM, "time_zone": "Mars/Olympus"}
    bad_zone = post(browser, "/app/profile/email", page, status=400, email=ADDRESS, **form)
    assert "Enter a time zone" in bad_zone.text
    assert inbox.messages == []


def test_stopping_on_the_profile_ends_the_subscription(ui_app, browser, inbox):
    page = get(browser, "/app/profile")
    post(browser, "/app/profile/email", page, email=ADDRESS, **FORM)
    page = get(browser, "/app/profile")

    post(browser, "/app/profile/email/stop", page)

    assert ui_app.extensions["delivery"].subscription(learner(ui_app)).status == "stopped"
    assert "Review questions by e-mail are stopped." in get(
        browser, "/app/profile?done=email-stopped"
    )


def test_deleting_learning_data_forgets_the_address(ui_app, browser, inbox):
    page = get(browser, "/app/profile")
    post(browser, "/app/profile/email", page, email=ADDRESS, **FORM)
    confirm = get(browser, "/app/profile/delete")

    post(browser, "/app/profile/delete", confirm)

    assert ui_app.extensions["delivery"].subscription(learner(ui_app)) is None


def test_changing_settings_of_a_confirmed_address_sends_no_new_confirmation(ui_app, browser, inbox):
    page = get(browser, "/app/profile")
    post(browser, "/app/profile/email", page, email=ADDRESS, **FORM)
    store = ui_app.extensions["delivery"]
    store.confirm(store.subscription(learner(ui_app)).nonce)
    page = get(browser, "/app/profile")
    assert "On: one due review question at a time is sent to" in page

    saved = post(browser, "/app/profile/email", page, email=ADDRESS, **{**FORM, "min_hours": "168"})

    assert "done=email-saved" in saved.headers["Location"]
    assert len(inbox.to(ADDRESS)) == 1
    subscription = store.subscription(learner(ui_app))
    assert (subscription.status, subscription.preferences.min_hours) == ("active", 168)


def test_confirmation_mails_are_limited_per_learner_a_day_and_per_address_an_hour(browser, inbox):
    page = get(browser, "/app/profile")
    post(browser, "/app/profile/email", page, email=ADDRESS, **FORM)
    post(browser, "/app/profile/email", page, email=ADDRESS, **FORM)  # "sent", not sent again
    assert len(inbox.messages) == 1
    for n in (2, 3):
        post(browser, "/app/profile/email", page, email=f"typo{n}@example.org", **FORM)
    fourth = post(browser, "/app/profile/email", page, status=429, email="x4@example.org", **FORM)

    assert "Too many confirmation e-mails" in fourth.text
    assert len(inbox.messages) == 3


def test_outside_demo_mode_opt_in_needs_the_public_base_url(ui_app, browser, inbox):
    ui_app.extensions[DEPLOYMENT] = Deployment()  # signed in through the demo; now production
    page = get(browser, "/app/profile")

    refused = post(browser, "/app/profile/email", page, status=503, email=ADDRESS, **FORM)

    assert "public address is missing" in refused.text
    assert inbox.messages == []
    assert ui_app.extensions["delivery"].subscription(learner(ui_app)) is None


def test_e_mailed_notices_are_a_choice_of_their_own_off_by_default(ui_app, browser, inbox):
    page = get(browser, "/app/profile")
    assert 'name="notices" value="yes" >' in page  # offered, not ticked
    post(browser, "/app/profile/email", page, email=ADDRESS, **FORM)
    store = ui_app.extensions["delivery"]
    saved = store.subscription(learner(ui_app))
    assert not saved.preferences.notices
    store.confirm(saved.nonce)  # a confirmed address changes its settings without a new mail

    page = get(browser, "/app/profile")
    post(browser, "/app/profile/email", page, email=ADDRESS, notices="yes", **FORM)
    assert store.subscription(learner(ui_app)).preferences.notices
    assert 'name="notices" value="yes" checked>' in get(browser, "/app/profile")


def test_choosing_notices_by_mail_links_the_clinicians_cds_keys_and_not_choosing_does_not(
    ui_app, browser, inbox
):
    collab = ui_app.extensions["collaboration"].store
    post(browser, "/app/profile/email", get(browser, "/app/profile"), email=ADDRESS, **FORM)
    assert collab.linked_keys(learner(ui_app)) == []

    page = get(browser, "/app/profile")  # a corrected address, now with notices
    post(browser, "/app/profile/email", page, email="c.okafor@example.org", notices="yes", **FORM)
    linked = collab.linked_keys(learner(ui_app))
    assert linked and all(key.startswith("cds:") for key in linked)

"""A confirmation that never left changes nothing; one that did is not refused when asked again."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from app.db import close_stores
from app.delivery.outbox import ConfirmationThrottled, outbox
from app.delivery.smtp import SendFailed
from app.delivery.store import Preferences
from tests.delivery.conftest import NO_QUIET, mail_app, smtp_url, subscribe
from tests.support.serve import free_port

OLD, NEW = "old@example.org", "new@example.org"


@pytest.fixture
def app_with_smtp_down(instance_path, inbox):
    """Bedside whose SMTP server does not answer (nothing listens on its port) until switched."""
    made = mail_app(instance_path, free_port())
    yield made
    close_stores(made)


def test_a_confirmation_that_could_not_be_sent_keeps_the_subscription_and_the_limits(
    app_with_smtp_down, inbox
):
    app = app_with_smtp_down
    store = app.extensions["delivery"]
    subscribe(app, "learner-1", OLD)
    before = store.subscription("learner-1")
    now = datetime.now(UTC)

    with app.app_context(), pytest.raises(SendFailed):
        outbox().opt_in("learner-1", NEW, NO_QUIET, now)

    assert store.subscription("learner-1") == before  # still mailed at the confirmed address
    app.config["SMTP_URL"] = smtp_url(inbox.port)  # the server is back
    with app.app_context():
        assert outbox().opt_in("learner-1", NEW, NO_QUIET, now + timedelta(minutes=10))
    assert len(inbox.to(NEW)) == 1
    after = store.subscription("learner-1")
    assert (after.address, after.status) == (NEW, "pending")


def test_asking_again_within_the_hour_says_the_mail_was_sent_and_keeps_the_new_settings(app, inbox):
    weekly = Preferences(quiet_start=0, quiet_end=0, min_hours=168)
    now = datetime.now(UTC)
    with app.app_context():
        mailer = outbox()
        assert mailer.opt_in("learner-1", NEW, NO_QUIET, now)
        assert mailer.opt_in("learner-1", NEW, weekly, now + timedelta(minutes=5))
        with pytest.raises(ConfirmationThrottled):  # another learner: the address's hourly limit
            mailer.opt_in("learner-2", NEW, NO_QUIET, now + timedelta(minutes=5))

    assert len(inbox.to(NEW)) == 1
    kept = app.extensions["delivery"].subscription("learner-1")
    assert (kept.status, kept.preferences.min_hours) == ("pending", 168)


def test_a_double_submit_sends_one_mail_and_both_requests_say_it_was_sent(app, inbox):
    start = threading.Barrier(2)
    results = []

    def submit() -> None:
        with app.app_context():
            mailer = outbox()
            start.wait()
            results.append(mailer.opt_in("learner-1", NEW, NO_QUIET, datetime.now(UTC)))

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [True, True]
    assert len(inbox.to(NEW)) == 1
    subscription = app.extensions["delivery"].subscription("learner-1")
    assert (subscription.address, subscription.status) == (NEW, "pending")

"""One mailbox, however it is written: the suppression list and the limits cannot be sidestepped."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from app.delivery.outbox import outbox
from app.delivery.store import DeliveryStore, Preferences, bare_address
from app.ui.email_optin import EmailFormError, opt_in_from_form
from tests.delivery.conftest import NO_QUIET, subscribe

VICTIM = "victim@example.org"
NOW, HOUR_AGO, DAY_AGO = (
    "2026-12-07T10:00:00+00:00",
    "2026-12-07T09:00:00+00:00",
    "2026-12-06T10:00:00+00:00",
)
OTHER_FORMS = (
    f"<{VICTIM}>",
    f"{VICTIM},x.y",
    f"{VICTIM}, someone@example.org",
    f'"Victim" <{VICTIM}>',
    f"{VICTIM} (comment)",
)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        (" Dr.Okafor@Example.ORG ", "Dr.Okafor@example.org"),  # local part kept as typed
        (VICTIM, VICTIM),
    ],
)
def test_a_bare_address_is_kept_trimmed_with_its_domain_lower_cased(typed, kept):
    assert bare_address(typed) == kept


@pytest.mark.parametrize("typed", [*OTHER_FORMS, "nope", "a@b@example.org", "a b@example.org"])
def test_anything_but_one_bare_address_is_not_an_address(typed):
    assert bare_address(typed) is None


@pytest.mark.parametrize("typed", OTHER_FORMS)
def test_the_opt_in_form_refuses_an_address_written_any_other_way(app, typed):
    form = {"email": typed, "time_zone": "UTC", "quiet_start": "21", "quiet_end": "7"}

    with app.test_request_context(), pytest.raises(EmailFormError, match="Enter an e-mail"):
        opt_in_from_form({**form, "min_hours": "24"}, "en")


def test_suppression_and_the_hourly_limit_key_on_the_mailbox_not_its_spelling(database):
    store = DeliveryStore(database, "address-forms-key")
    store.confirm(store.subscribe("learner-1", VICTIM, Preferences(), NOW))

    assert store.take_confirmation_slot("learner-2", VICTIM, NOW, DAY_AGO, HOUR_AGO)
    assert not store.take_confirmation_slot("learner-3", f"<{VICTIM}>", NOW, DAY_AGO, HOUR_AGO)
    assert store.suppress(f'"Victim" <{VICTIM.upper()}>', "bounce", NOW) == 1
    assert store.is_suppressed(f"<{VICTIM}>")
    assert store.subscription("learner-1").status == "stopped"


def test_a_list_saved_before_addresses_were_checked_is_no_longer_mailed(app, inbox):
    subscribe(app, "learner-1", f"me@example.org,{VICTIM}")  # a question is due
    subscribe(app, "learner-2", "ok@example.org")

    with app.app_context():
        outbox().send_due(datetime.now(UTC))

    assert inbox.to(VICTIM) == [] and inbox.to("me@example.org") == []
    assert len(inbox.to("ok@example.org")) == 1


def test_a_learner_whose_named_address_was_saved_earlier_is_sent_a_confirmation_again(app, inbox):
    store = app.extensions["delivery"]
    subscribe(app, "learner-1", "Dr A <a@example.org>")  # as the old form kept it, confirmed
    with store.database.write() as connection:  # hashed as it was then: the whole text
        connection.execute(
            text("UPDATE delivery_subscriptions SET address_hash = :h"),
            {"h": store_hash(store, "dr a <a@example.org>")},
        )
    with app.app_context():
        sent = outbox().opt_in("learner-1", "a@example.org", NO_QUIET, datetime.now(UTC))
    assert sent and len(inbox.to("a@example.org")) == 1
    assert store.subscription("learner-1").address == "a@example.org"


def store_hash(store: DeliveryStore, key: str) -> str:
    """The keyed hash of an address key, as the store made it before addresses were checked."""
    return hmac.new(store._hash_key, key.encode(), hashlib.sha256).hexdigest()

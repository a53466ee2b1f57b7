"""The weekly digest gives its reasons in the learner's language, worded as /app/next words them."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import force_locale

from app.delivery.outbox import outbox
from app.delivery.store import Preferences
from app.learning.recommend import Profile
from app.ui import labels, reason_texts
from tests.delivery.conftest import subscribe

SPANISH_DIGEST = Preferences(language="es", quiet_start=0, quiet_end=0, digest=True)


def test_a_spanish_digest_has_spanish_reasons_real_plurals_and_the_specialty_by_name(app, inbox):
    app.extensions["learning"].save_profile(
        Profile("learner-1", "cardiology", "self", ("hfref-gdmt",), "es")
    )
    subscribe(app, "learner-1", "es@example.org", SPANISH_DIGEST)  # one question due

    with app.app_context():
        report = outbox().send_due(datetime.now(UTC))
        with force_locale("es"):
            due = reason_texts.review_due_sentence(1)
            specialty = labels.specialty("cardiology")

    assert report.digests == 1
    [digest] = [m for m in inbox.to("es@example.org") if "semana" in m["Subject"]]
    text = digest.get_body(preferencelist=("plain",)).get_content()
    html = digest.get_body(preferencelist=("html",)).get_content()
    for body in (text, html):
        assert f"{due}. " in body  # a sentence of its own, then the next reason
        assert f"({specialty})" in body and "(cardiology)" not in body
        assert "question(s)" not in body and "due for review" not in body

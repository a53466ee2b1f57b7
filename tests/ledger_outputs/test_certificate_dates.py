"""Certificate and transcript dates are UTC days, and say so; PARS keeps its MM/DD/YYYY date."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.ledger.models import ClaimRequest, ReportingIdentity
from app.ledger.outputs.certificates import (
    activity_certificate,
    period_certificate,
    render_certificate,
    render_period_certificate,
    render_transcript,
)
from app.ledger.outputs.pars import pars_batch
from app.ledger.outputs.transcript import transcript
from app.ledger.rules import CreditAward
from tests.ledger.helpers import ISSUER

LATE_EVENING_IN_NEW_YORK = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)  # 31 March, 22:00 EDT


@pytest.fixture
def night_owl(store) -> str:
    """A learner whose case credit was earned at 02:00 UTC on 1 April 2026."""
    learner = store.ensure_learner(ISSUER, "Practitioner/night-owl")
    request = ClaimRequest(
        learner,
        "case",
        "case:sepsis-hour-1-bundle@2.0.0",
        LATE_EVENING_IN_NEW_YORK,
        "sepsis-hour-1-bundle",
        "2.0.0",
        str(uuid.uuid5(uuid.NAMESPACE_URL, "night-owl")),
        {"correct": 4, "total": 4, "pass_mark_percent": 75},
    )
    award = CreditAward("ama-pra-category-1", Decimal("0.25"), Decimal("0.25"))
    store.append_credit(request, [award], "night-owl-case")
    store.set_reporting_identity(
        learner, ReportingIdentity("Nia", "Owl", board_id="123456", birth_month_day="01/02")
    )
    return learner


def plain(html: str) -> str:
    """A page's text without tags, its whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_certificate_labels_its_completion_date_as_a_utc_day(outputs_app, store, night_owl):
    [record] = store.credits_for(night_owl)
    with outputs_app.test_request_context():
        html = render_certificate(activity_certificate(store, night_owl, record.sequence))
    assert "Date completed (UTC) April 1, 2026" in plain(html)


def test_the_transcript_and_period_certificate_label_their_date_column_utc(
    outputs_app, store, night_owl
):
    t = transcript(store, night_owl)
    with outputs_app.test_request_context():
        pages = [render_transcript(t), render_period_certificate(period_certificate(t))]
    for html in pages:
        assert '<th scope="col">Date (UTC)</th>' in html
        assert 'data-label="Date (UTC)"' in html and "April 1, 2026" in html


def test_pars_keeps_the_utc_day_as_its_mm_dd_yyyy_completion_date(store, night_owl):
    [row] = pars_batch(store, store.credits_for(night_owl)).text.rstrip("\n").split("\n")[1:]
    assert row.split("\t")[7] == "04/01/2026"

"""Certificates and the transcript page: statements, amounts, titles, hashes; print-safe HTML."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.ledger.models import UnknownRecord
from app.ledger.outputs.certificates import (
    NoCertificate,
    activity_certificate,
    period_certificate,
    render_certificate,
    render_period_certificate,
    render_transcript,
)
from app.ledger.outputs.settings import DEMO_PROVIDER, Accreditation, output_settings
from app.ledger.outputs.transcript import transcript
from app.settings import REPO_ROOT
from tests.ledger_outputs.world import modules

ACCREDITED = Accreditation(
    provider="Example Medical Society",
    statement="Example Medical Society is accredited by the ACCME to provide continuing medical "
    "education for physicians.",
)


def assert_print_safe(html: str) -> None:
    """No inline styles or scripts (the CSP forbids them); the print stylesheet is linked."""
    assert "style=" not in html and "<style" not in html and "<script" not in html
    assert 'href="/static/bedside.css"' in html and "print.css" not in html


def test_activity_certificate_has_statement_amounts_title_and_hashes(outputs_app, store, world):
    alice = world.learners["alice"]
    af = world.sequences["alice-af"]
    cert = activity_certificate(store, alice, af[1], library=modules(), accreditation=ACCREDITED)
    assert [c.credit_type for c in cert.credits] == ["ama-pra-category-1", "aafp-prescribed"]
    with outputs_app.test_request_context():
        html = render_certificate(cert)
    assert_print_safe(html)
    assert ACCREDITED.statement in html
    assert (
        "Example Medical Society designates this enduring material for a maximum of 0.25 "
        "AMA PRA Category 1 Credit™." in html
    )
    assert "Atrial fibrillation: stroke prevention" in html
    assert "Alice Ng" in html
    records = store.credits_for(alice)
    for sequence in af:
        record = next(r for r in records if r.sequence == sequence)
        assert f"Ledger record #{sequence}" in html and record.record_hash in html
    assert "demo-warning" not in html


def test_the_demo_provider_is_labelled_as_not_accredited(outputs_app, store, world):
    cert = activity_certificate(
        store, world.learners["alice"], world.sequences["alice-poc"][0], library=modules()
    )
    with outputs_app.test_request_context():
        html = render_certificate(cert)
    assert DEMO_PROVIDER == "Bedside demo provider (not accredited)"
    assert "demo-warning" in html and "not accredited" in html
    assert (
        "Bedside demo provider (not accredited) designates this internet point-of-care activity "
        "for a maximum of 0.50 AMA PRA Category 1 Credit™." in html
    )


def test_a_learner_without_a_name_gets_how_to_add_one_never_an_id(outputs_app, store, world):
    carol = world.learners["carol"]
    cert = activity_certificate(store, carol, world.sequences["carol-aom"][0], library=modules())
    with outputs_app.test_request_context():
        html = render_certificate(cert)
        period = render_period_certificate(period_certificate(transcript(store, carol)))
    for page in (html, period):
        assert carol not in page and "Bedside learner" not in page
        assert "[No name printed]" in page
        assert "Add your name and credentials in your" in page
        assert "Your name on certificates" in page


def test_reversed_or_foreign_records_get_no_certificate(store, world):
    alice = world.learners["alice"]
    with pytest.raises(NoCertificate):
        activity_certificate(store, alice, world.sequences["alice-sepsis"][0])
    with pytest.raises(NoCertificate):
        activity_certificate(store, alice, world.sequences["alice-reversal"][0])
    with pytest.raises(UnknownRecord):
        activity_certificate(store, alice, world.sequences["bob-cap"][0])


def test_period_certificate_totals_net_credit_and_lists_activities(outputs_app, store, world):
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    t = transcript(store, world.learners["alice"], start=start, end=end, library=modules())
    cert = period_certificate(t, ACCREDITED)
    assert cert.totals == {
        "aafp-prescribed": Decimal("0.25"),
        "ama-pra-category-1": Decimal("1.75"),
    }
    assert cert.period == ("2026-03-01", "2026-03-31")
    assert len(cert.credited) == 5  # af (2 types) and 3 cycles; the reversed sepsis credit is out
    assert cert.activities == 4
    with outputs_app.test_request_context():
        html = render_period_certificate(cert)
    assert_print_safe(html)
    assert re.search(r"completed 4 activities\s+from March 1, 2026 to March 31, 2026", html)
    assert re.search(r"AMA PRA Category 1 Credit™</td><td class=\"number\">1.75", html)
    assert ACCREDITED.statement in html and t.last_row.record.record_hash in html


def test_transcript_page_shows_rows_reversals_and_totals(outputs_app, store, world):
    t = transcript(store, world.learners["alice"], library=modules())
    with outputs_app.test_request_context():
        html = render_transcript(t, ACCREDITED)
    assert_print_safe(html)
    assert 'class="reversal"' in html and "claimed twice by mistake" in html
    assert "-0.25" in html and "1.75" in html
    assert t.rows[0].hash_prefix in html


def test_rendering_outside_a_request_links_the_static_path(outputs_app, store, world):
    t = transcript(store, world.learners["alice"], library=modules())
    with outputs_app.app_context():
        assert 'href="/static/bedside.css"' in render_transcript(t)


def test_print_stylesheet_has_print_rules_and_no_page_size():
    css = (REPO_ROOT / "app" / "static" / "bedside.css").read_text(encoding="utf-8")
    assert "@media print" in css and "@page" in css
    assert not re.search(r"(^|[\s{;])size:", css)  # no forced paper: fits A4 and US Letter


def test_accreditation_comes_from_settings_with_demo_defaults():
    assert output_settings({}).accreditation == Accreditation()
    configured = output_settings(
        {"ACCREDITATION_PROVIDER": "Example", "ACCREDITATION_STATEMENT": "Accredited."},
        "https://x.test/",
    )
    assert configured.accreditation.provider == "Example" and not configured.accreditation.is_demo
    assert configured.base_url == "https://x.test"
    with pytest.raises(ValueError, match="BEDSIDE_PUBLIC_BASE_URL"):
        output_settings({}).public_url()

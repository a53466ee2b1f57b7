"""In real Chromium, on a phone, in Spanish: name a certificate, then see it with its QR."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import text

from app.ledger.models import ClaimRequest
from app.ledger.rules import CreditAward
from tests.browser.test_learner_pages_browser import sign_in

SEPSIS = "sepsis-hour-1-bundle"


def record_a_case_credit(app) -> None:
    """Put one sepsis case credit in the ledger for the only learner (the signed-in clinician)."""
    store = app.extensions["ledger"].store
    with store.database.read() as connection:
        [learner] = [
            row[0] for row in connection.execute(text("SELECT learner_id FROM ledger_learners"))
        ]
    claim = ClaimRequest(
        learner_id=learner,
        activity_type="case",
        activity_key=f"case:{SEPSIS}@1.0.0",
        earned_at=datetime(2026, 3, 5, 10, tzinfo=UTC),
        module_id=SEPSIS,
        module_version="1.0.0",
        attempt_id=str(uuid.UUID(int=1)),
        evidence={"correct": 4, "total": 4, "pass_mark_percent": 75},
    )
    award = CreditAward("ama-pra-category-1", Decimal("0.25"), Decimal("0.25"))
    store.append_credit(claim, [award], "browser-certificate")


def test_a_named_spanish_certificate_with_its_badge_qr_on_a_phone(phone, demo_server):
    sign_in(phone, demo_server.url)
    phone.goto(f"{demo_server.url}/app/profile?lang=es")
    record_a_case_credit(demo_server.app)
    section = phone.locator("#certificate-name")
    assert "Chinwe Okafor" in section.inner_text()  # offered from the EHR's Practitioner
    phone.fill("#credentials", "MD")
    phone.check("#certificate-name input[name='consent']")
    phone.click("#certificate-name button.primary")
    phone.wait_for_url("**/app/profile**")
    assert "Chinwe Okafor, MD" in phone.inner_text("#certificate-name")

    phone.goto(f"{demo_server.url}/ledger/certificates/1")
    sheet = phone.inner_text("main")
    assert "Certificado de finalización" in sheet and "Chinwe Okafor, MD" in sheet
    assert "5 de marzo de 2026" in sheet and "0,25" in sheet
    assert "Certificate" not in sheet and "completed" not in sheet
    qr = phone.locator("svg.badge-qr")
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 100 and box["x"] + box["width"] <= 390
    badge = phone.request.get(phone.get_attribute("a.badge-url", "href"))
    assert badge.ok and badge.headers["content-type"].startswith("application/jwt")
    assert badge.text().count(".") == 2  # a compact JWS

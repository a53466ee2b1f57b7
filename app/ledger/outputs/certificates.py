"""Printable certificates (per activity and per period) and the transcript page, as HTML.

The HTML prints on A4 and Letter (app/static/print.css; no inline styles, as the CSP requires).
Browsers save it as PDF from the print dialog; Bedside ships no PDF engine (WeasyPrint needs
system libraries, and a hand-drawn PDF would not be "trivial"). Rendering needs a Flask app
context; inside a request the stylesheet links come from `url_for`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from flask import current_app, has_request_context, render_template, url_for

from app.ledger.chain import CreditRecord, from_hundredths
from app.ledger.models import LedgerError, UnknownRecord
from app.ledger.outputs import records as shared
from app.ledger.outputs.settings import Accreditation
from app.ledger.outputs.transcript import Transcript, TranscriptRow, display_name
from app.ledger.store import LedgerStore

STYLESHEETS = ("bedside.css", "print.css")


class NoCertificate(LedgerError):
    """The record cannot be certified (it is a reversal, or it was reversed)."""


@dataclass(frozen=True)
class CertifiedCredit:
    """One credit type on an activity certificate, with its designation and chain anchor."""

    credit_type: str
    label: str
    amount: Decimal
    designation: str
    sequence: int
    record_hash: str


@dataclass(frozen=True)
class Certificate:
    """A certificate for one completed activity."""

    learner_id: str
    display_name: str | None
    title: str
    activity_label: str
    completed_on: str  # YYYY-MM-DD
    credits: tuple[CertifiedCredit, ...]
    accreditation: Accreditation
    language: str

    @property
    def shown_name(self) -> str:
        """Return the name the learner entered, else their opaque learner id."""
        return self.display_name or self.learner_id


@dataclass(frozen=True)
class PeriodCertificate:
    """A certificate of the net credit a learner earned in a period."""

    transcript: Transcript
    credited: tuple[TranscriptRow, ...]
    totals: Mapping[str, Decimal]
    accreditation: Accreditation
    period: tuple[str | None, str | None]

    @property
    def activities(self) -> int:
        """Count the completions certified (an activity with two credit types counts once)."""
        return len({completion_key(row.record) for row in self.credited})


def activity_certificate(
    store: LedgerStore,
    learner_id: str,
    sequence: int,
    *,
    library: Mapping[str, dict] | None = None,
    accreditation: Accreditation | None = None,
    language: str = "en",
) -> Certificate:
    """Certify the activity of one of the learner's credit records (all its credit types)."""
    records = store.credits_for(learner_id)
    record = next((r for r in records if r.sequence == sequence), None)
    if record is None:
        raise UnknownRecord(f"This learner has no credit record #{sequence}.")
    standing = shared.standing_credits(records)
    if record not in standing:
        raise NoCertificate(
            f"Record #{sequence} is a reversal or was reversed; nothing to certify."
        )
    accreditation = accreditation or Accreditation()
    siblings = [r for r in standing if same_completion(r, record)]
    language = shared.pick_language(language)
    return Certificate(
        learner_id=learner_id,
        display_name=display_name(store, learner_id),
        title=shared.title(library or {}, record, language),
        activity_label=shared.activity_label(record.activity_type, language),
        completed_on=record.earned_at[:10],
        credits=tuple(certified(r, accreditation) for r in siblings),
        accreditation=accreditation,
        language=language,
    )


def same_completion(record: CreditRecord, other: CreditRecord) -> bool:
    """Tell whether two credit records come from the same completion of the same activity."""
    return completion_key(record) == completion_key(other)


def completion_key(record: CreditRecord) -> tuple[str, str]:
    """Identify a completion: the activity and the attempt (or, without one, the time earned)."""
    return record.activity_key, record.attempt_id or record.earned_at


def certified(record: CreditRecord, accreditation: Accreditation) -> CertifiedCredit:
    """Describe one credit record on a certificate."""
    amount = from_hundredths(record.amount_hundredths)
    designated = from_hundredths(record.designated_hundredths)
    return CertifiedCredit(
        credit_type=record.credit_type,
        label=shared.credit_label(record.credit_type),
        amount=amount,
        designation=accreditation.designation(record.activity_type, record.credit_type, designated),
        sequence=record.sequence,
        record_hash=record.record_hash,
    )


def period_certificate(
    t: Transcript, accreditation: Accreditation | None = None
) -> PeriodCertificate:
    """Certify the net credit of a transcript's period (reversed credit is left out)."""
    credited = tuple(
        row for row in t.rows if row.record.kind == "credit" and row.reversed_by is None
    )
    return PeriodCertificate(
        transcript=t,
        credited=credited,
        totals={kind: amount for kind, amount in t.totals.items() if amount > 0},
        accreditation=accreditation or Accreditation(),
        period=period_bounds(t.window),
    )


def period_bounds(window: shared.Window) -> tuple[str | None, str | None]:
    """Return the first and last calendar day of a window (its end is exclusive)."""
    first = window.start.date().isoformat() if window.start else None
    last = (window.end - timedelta(microseconds=1)).date().isoformat() if window.end else None
    return first, last


def render_certificate(certificate: Certificate) -> str:
    """Render an activity certificate as a printable HTML page."""
    return render("ledger/certificate.html", certificate=certificate, lang=certificate.language)


def render_period_certificate(certificate: PeriodCertificate) -> str:
    """Render a period certificate as a printable HTML page."""
    lang = certificate.transcript.language
    return render("ledger/period_certificate.html", certificate=certificate, lang=lang)


def render_transcript(t: Transcript, accreditation: Accreditation | None = None) -> str:
    """Render a transcript as an HTML page (it prints too)."""
    return render(
        "ledger/transcript.html",
        transcript=t,
        accreditation=accreditation or Accreditation(),
        period=period_bounds(t.window),
        certificate_url=certificate_url if linkable() else None,
        lang=t.language,
    )


def linkable() -> bool:
    """Tell whether certificate pages can be linked (in a request, with the blueprint mounted)."""
    return has_request_context() and "ledger_outputs" in current_app.blueprints


def certificate_url(sequence: int) -> str:
    """Return the URL of the certificate page of a credit record."""
    return url_for("ledger_outputs.activity_certificate_page", sequence=sequence)


def render(template: str, **context: object) -> str:
    """Render a ledger template with its stylesheets and the shared helpers."""
    return render_template(
        template,
        stylesheets=stylesheet_urls(),
        label=shared.credit_label,
        amount=shared.amount_text,
        **context,
    )


def stylesheet_urls() -> list[str]:
    """Return the stylesheet links: from url_for in a request, else from the static path."""
    if has_request_context():
        return [url_for("static", filename=name) for name in STYLESHEETS]
    return [f"{current_app.static_url_path}/{name}" for name in STYLESHEETS]

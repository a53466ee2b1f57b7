"""Printable certificates (per activity and per period) and the transcript page, as HTML.

The HTML prints on A4 and Letter (app/static/bedside.css; no inline styles, as the CSP requires).
Browsers save it as PDF from the print dialog; Bedside ships no PDF engine (WeasyPrint needs
system libraries, and a hand-drawn PDF would not be "trivial"). Rendering needs a Flask app
context; inside a request the stylesheet links come from `url_for`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import segno
from flask import current_app, has_request_context, render_template, url_for
from flask_babel import (
    force_locale,
    format_date,
    format_decimal,
    get_locale,
    gettext,
    lazy_gettext,
)
from markupsafe import Markup

from app.ledger.chain import CreditRecord, from_hundredths
from app.ledger.models import LedgerError, UnknownRecord
from app.ledger.outputs import records as shared
from app.ledger.outputs.settings import Accreditation, Wording
from app.ledger.outputs.transcript import PrintedName, Transcript, TranscriptRow, printed_name
from app.ledger.store import LedgerStore

STYLESHEETS = ("bedside.css",)  # one stylesheet; its @media print lays out A4 and Letter


class NoCertificate(LedgerError):
    """The record cannot be certified (it is a reversal, or it was reversed)."""


@dataclass(frozen=True)
class CertifiedCredit:
    """One credit type on an activity certificate, with its designation and chain anchor."""

    credit_type: str
    label: str
    amount: Decimal
    designation: str | None  # None: no statement is configured for this credit type
    sequence: int
    record_hash: str
    activity_type: str = "case"
    designated: Decimal = Decimal(0)


@dataclass(frozen=True)
class Certificate:
    """A certificate for one completed activity."""

    learner_id: str
    learner_name: PrintedName | None  # None: the learner has not agreed to print a name
    title: str
    activity_label: str
    completed_on: str  # YYYY-MM-DD, the UTC day (certificates label it so)
    credits: tuple[CertifiedCredit, ...]
    accreditation: Accreditation
    language: str
    badge_url: str | None = None  # where the signed Open Badge of the first credit is served


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
        learner_name=printed_name(store, learner_id),
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
        activity_type=record.activity_type,
        designated=designated,
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
    """Render an activity certificate as a printable HTML page, in the certificate's language."""
    badge = certificate.badge_url
    return render(
        "ledger/certificate.html",
        certificate.language,
        certificate=certificate,
        badge_qr=qr_svg(badge) if badge else None,
    )


def render_period_certificate(certificate: PeriodCertificate) -> str:
    """Render a period certificate as a printable HTML page."""
    return render(
        "ledger/period_certificate.html", certificate.transcript.language, certificate=certificate
    )


def render_transcript(t: Transcript, accreditation: Accreditation | None = None) -> str:
    """Render a transcript as an HTML page (it prints too)."""
    return render(
        "ledger/transcript.html",
        t.language,
        transcript=t,
        accreditation=accreditation or Accreditation(),
        period=period_bounds(t.window),
        certificate_url=certificate_url if linkable() else None,
    )


def qr_svg(url: str) -> Markup:
    """A QR code of a URL as inline SVG (segno: pure Python; no image file, no inline style)."""
    code = segno.make(url, error="m")
    return Markup(code.svg_inline(scale=3, svgclass="badge-qr", lineclass=None, title=url))


def linkable() -> bool:
    """Tell whether certificate pages can be linked (in a request, with the blueprint mounted)."""
    return has_request_context() and "ledger_outputs" in current_app.blueprints


def certificate_url(sequence: int) -> str:
    """Return the URL of the certificate page of a credit record."""
    return url_for("ledger_outputs.activity_certificate_page", sequence=sequence)


def render(template: str, language: str, **context: object) -> str:
    """Render a ledger template in a language, with its stylesheets and the shared helpers."""
    with force_locale(language):
        return render_template(
            template,
            stylesheets=stylesheet_urls(),
            lang=language,
            label=credit_name,
            amount=local_amount,
            day=long_date,
            designate=designation,
            statement=statement,
            provider=provider,
            profile_url=profile_url() if linkable() else None,
            **context,
        )


def credit_name(credit_type: str) -> str:
    """A credit type's printed name in the current language (trademarks stay as they are)."""
    return gettext(shared.credit_label(credit_type))


def local_amount(amount: Decimal) -> str:
    """An amount with two decimals, written the local way (0.50 / 0,50)."""
    return format_decimal(amount, format="0.00")


def long_date(day: str | None) -> str:
    """A YYYY-MM-DD day written out in the current language (May 1, 2026 / 1 de mayo de 2026)."""
    if not day:
        return ""
    return format_date(date.fromisoformat(day[:10]), format="long")


def designation(accreditation: Accreditation, credit: CertifiedCredit) -> str | None:
    """The designation statement of one credit in the current language (the provider's own in
    the language it gives nearest to it), if any."""
    wording = Wording(str(get_locale() or "en"), translated, amount_in)
    return accreditation.designation(
        credit.activity_type, credit.credit_type, credit.designated, wording
    )


def translated(language: str, text: str) -> str:
    """An English text of the catalogue in another language."""
    with force_locale(language):
        return gettext(text)


def amount_in(language: str, amount: Decimal) -> str:
    """An amount written the way of another language."""
    with force_locale(language):
        return local_amount(amount)


def statement(accreditation: Accreditation) -> str:
    """The accreditation statement: the provider's own, or the demo warning translated."""
    return gettext(accreditation.statement) if accreditation.is_demo else accreditation.statement


def provider(accreditation: Accreditation) -> str:
    """The provider's name: as configured, or the demo placeholder translated."""
    return gettext(accreditation.provider) if accreditation.is_demo else accreditation.provider


def profile_url() -> str | None:
    """Where the learner adds their name (the learner UI's profile), if the UI is mounted."""
    if "ui" not in current_app.blueprints:
        return None
    return url_for("ui.profile_view", _anchor="certificate-name")


# The English wording of app/ledger/outputs/settings.py, marked here for the catalogue (settings
# stays free of Flask); tests/ledger_outputs/test_certificates_i18n.py keeps the two equal.
SETTINGS_WORDING = (
    lazy_gettext("Bedside demo provider (not accredited)"),
    lazy_gettext(
        "DEMONSTRATION ONLY: Bedside demo provider is not accredited by the ACCME or any other "
        "accreditor. This document is not evidence of AMA PRA Category 1 Credit™ or any other "
        "credit."
    ),
    lazy_gettext(
        "{provider} designates this {format} for a maximum of {amount} {credit}. Physicians "
        "should claim only the credit commensurate with the extent of their participation in the "
        "activity."
    ),
    lazy_gettext("enduring material"),
    lazy_gettext("internet point-of-care activity"),
    lazy_gettext("journal club activity"),
    lazy_gettext("activity"),
)


def stylesheet_urls() -> list[str]:
    """Return the stylesheet links: from url_for in a request, else from the static path."""
    if has_request_context():
        return [url_for("static", filename=name) for name in STYLESHEETS]
    return [f"{current_app.static_url_path}/{name}" for name in STYLESHEETS]

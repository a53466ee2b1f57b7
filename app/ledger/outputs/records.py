"""Shared reading of credit records for every output: windows, netting, titles and labels."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from app.ledger.chain import CreditRecord, from_hundredths, parse_timestamp, timestamp

CREDIT_LABELS = {
    "ama-pra-category-1": "AMA PRA Category 1 Credit™",
    "aafp-prescribed": "AAFP Prescribed Credit",
    "ancc-contact-hours": "ANCC contact hours",
    "acpe-contact-hours": "ACPE contact hours",
    "aapa-category-1": "AAPA Category 1 CME Credit",
}
ACTIVITY_LABELS = {
    "en": {"case": "Case", "poc": "Point-of-care learning", "journal-club": "Journal club"},
    "es": {
        "case": "Caso",
        "poc": "Aprendizaje en el punto de atención",
        "journal-club": "Club de revista",
    },
    "fr": {
        "case": "Cas clinique",
        "poc": "Apprentissage au point de soins",
        "journal-club": "Club de lecture",
    },
}
LANGUAGES = ("en", "es", "fr")


@dataclass(frozen=True)
class Window:
    """A reporting period [start, end) in UTC; None leaves that side open."""

    start: datetime | None = None
    end: datetime | None = None

    def contains(self, record: CreditRecord) -> bool:
        """Tell whether a record was earned in the window (reversals keep their credit's date)."""
        low = timestamp(self.start) if self.start else ""
        high = timestamp(self.end) if self.end else "~"
        return low <= record.earned_at < high


def day_start(day: date) -> datetime:
    """Return midnight UTC at the start of a calendar day."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def day_end(day: date) -> datetime | None:
    """Midnight UTC after an inclusive last day; None (no end) for the calendar's last day."""
    return day_start(day + timedelta(days=1)) if day < date.max else None


def select(
    records: Iterable[CreditRecord], window: Window, learner_id: str | None = None
) -> Iterator[CreditRecord]:
    """Yield the records of one learner (or all) earned in the window, in chain order."""
    for record in records:
        if (learner_id is None or record.learner_id == learner_id) and window.contains(record):
            yield record


def reversed_sequences(records: Iterable[CreditRecord]) -> set[int]:
    """Return the sequences of the credit records that a reversal among these cancels."""
    return {record.reverses for record in records if record.reverses is not None}


def standing_credits(records: list[CreditRecord]) -> list[CreditRecord]:
    """Return the credit records not cancelled by a reversal in the same list."""
    cancelled = reversed_sequences(records)
    return [r for r in records if r.kind == "credit" and r.sequence not in cancelled]


def net_totals(records: Iterable[CreditRecord]) -> dict[str, Decimal]:
    """Sum the amounts per credit type, reversals included (so they net out), sorted by type."""
    totals: dict[str, int] = {}
    for record in records:
        totals[record.credit_type] = totals.get(record.credit_type, 0) + record.amount_hundredths
    return {kind: from_hundredths(totals[kind]) for kind in sorted(totals)}


def credit_label(credit_type: str) -> str:
    """Return a credit type's printed name."""
    return CREDIT_LABELS.get(credit_type, credit_type)


def activity_label(activity_type: str, language: str = "en") -> str:
    """Return 'Case', 'Point-of-care learning' or 'Journal club' in the language."""
    return ACTIVITY_LABELS[pick_language(language)].get(activity_type, activity_type)


def pick_language(language: str | None) -> str:
    """Return a language Bedside writes (en, es, fr); anything else falls back to English."""
    base = (language or "en").split("-")[0].lower()
    return base if base in LANGUAGES else "en"


def titles(modules: Mapping[str, dict], record: CreditRecord) -> dict[str, str]:
    """Return the activity's title per language, from the library (or its key when unknown)."""
    module = modules.get(record.module_id or "")
    title = module.get("title") if module else None
    if isinstance(title, Mapping) and title:
        return {str(lang): str(text) for lang, text in title.items()}
    return {"en": record.activity_key}


def title(modules: Mapping[str, dict], record: CreditRecord, language: str = "en") -> str:
    """Return the activity's title in the language, else in English, else its key."""
    names = titles(modules, record)
    return names.get(pick_language(language)) or names.get("en") or record.activity_key


def earned(record: CreditRecord) -> datetime:
    """Return when the credit was earned, as an aware UTC datetime."""
    return parse_timestamp(record.earned_at)


def amount_text(amount: Decimal) -> str:
    """Write an amount with two decimals (0.50)."""
    return f"{amount:.2f}"

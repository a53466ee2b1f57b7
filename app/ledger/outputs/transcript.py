"""A learner's transcript: every credit and reversal in a period, and the net total per type.

Reversals are shown as their own rows (negative amounts, with the record they cancel and why) and
the cancelled credit is marked, so the transcript reconciles with the chain line by line. Each row
carries its chain sequence and a hash prefix: `bedside ledger verify` proves the chain behind it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.ledger.chain import CreditRecord, from_hundredths
from app.ledger.outputs import records as shared
from app.ledger.store import LedgerStore

HASH_PREFIX = 12
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "learner_id",
    "date",
    "activity",
    "activity_type",
    "module_id",
    "module_version",
    "credit_type",
    "amount",
    "kind",
    "reverses",
    "reversed_by",
    "reason",
    "sequence",
    "record_hash",
)


@dataclass(frozen=True)
class PrintedName:
    """The learner as certificates print them: only what they entered and agreed to print."""

    name: str
    credentials: str | None = None
    npi: str | None = None
    licence: str | None = None  # "CA 12345"

    @property
    def line(self) -> str:
        """Return the name with credentials ("Chinwe Okafor, MD")."""
        return f"{self.name}, {self.credentials}" if self.credentials else self.name


@dataclass(frozen=True)
class TranscriptRow:
    """One ledger record as the transcript shows it."""

    record: CreditRecord
    date: str  # YYYY-MM-DD (UTC) the credit was earned
    title: str
    activity_label: str
    credit_label: str
    amount: Decimal
    reversed_by: int | None = None

    @property
    def hash_prefix(self) -> str:
        """Return the first characters of the record hash, enough to find it in an audit."""
        return self.record.record_hash[:HASH_PREFIX]

    @property
    def is_reversal(self) -> bool:
        """Tell whether this row is a reversal entry."""
        return self.record.kind == "reversal"


@dataclass(frozen=True)
class Transcript:
    """A learner's records in a period, with net totals per credit type."""

    learner_id: str
    learner_name: PrintedName | None  # None: the learner has not agreed to print a name
    window: shared.Window
    language: str
    rows: tuple[TranscriptRow, ...]
    totals: Mapping[str, Decimal]

    @property
    def last_row(self) -> TranscriptRow | None:
        """Return the latest record in the transcript (its hash anchors a period certificate)."""
        return self.rows[-1] if self.rows else None


def transcript(
    store: LedgerStore,
    learner_id: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    library: Mapping[str, dict] | None = None,
    language: str | None = None,
) -> Transcript:
    """Build a learner's transcript for [start, end) from the ledger and the content library."""
    records = store.credits_for(learner_id, start, end)
    language = shared.pick_language(language or learner_language(store, learner_id))
    return build(learner_id, records, shared.Window(start, end), library or {}, language, store)


def build(
    learner_id: str,
    records: list[CreditRecord],
    window: shared.Window,
    modules: Mapping[str, dict],
    language: str,
    store: LedgerStore | None = None,
) -> Transcript:
    """Turn a learner's records into transcript rows and totals."""
    reversed_by = {r.reverses: r.sequence for r in records if r.reverses is not None}
    rows = tuple(row(r, modules, language, reversed_by.get(r.sequence)) for r in records)
    return Transcript(
        learner_id=learner_id,
        learner_name=printed_name(store, learner_id) if store else None,
        window=window,
        language=language,
        rows=rows,
        totals=shared.net_totals(records),
    )


def row(
    record: CreditRecord, modules: Mapping[str, dict], language: str, reversed_by: int | None
) -> TranscriptRow:
    """Describe one record."""
    return TranscriptRow(
        record=record,
        date=record.earned_at[:10],
        title=shared.title(modules, record, language),
        activity_label=shared.activity_label(record.activity_type, language),
        credit_label=shared.credit_label(record.credit_type),
        amount=from_hundredths(record.amount_hundredths),
        reversed_by=reversed_by,
    )


def learner_language(store: LedgerStore, learner_id: str) -> str | None:
    """Return the language in the learner's profile, if any."""
    learner = store.learner(learner_id)
    return learner.language if learner else None


def printed_name(store: LedgerStore, learner_id: str) -> PrintedName | None:
    """Return the name and identifiers the learner agreed to print, else None (never an id)."""
    identity = store.reporting_identity(learner_id)
    if identity is None:
        return None
    name = " ".join(part for part in (identity.first_name, identity.last_name) if part)
    if not name:
        return None
    licence = " ".join(p for p in (identity.licence_state, identity.licence_id) if p)
    return PrintedName(name, identity.credentials, identity.npi, licence or None)


def transcript_csv(t: Transcript) -> str:
    """Write the transcript as CSV (one row per record; amounts with two decimals)."""
    return write_csv([t])


def ledger_csv(
    records: list[CreditRecord], modules: Mapping[str, dict], language: str = "en"
) -> str:
    """Write many learners' records as one CSV (the `export --format csv` file)."""
    by_learner: dict[str, list[CreditRecord]] = {}
    for record in records:
        by_learner.setdefault(record.learner_id, []).append(record)
    window = shared.Window()
    return write_csv(
        build(learner, own, window, modules, language) for learner, own in by_learner.items()
    )


def write_csv(transcripts: Iterable[Transcript]) -> str:
    """Write transcripts' rows under one header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for t in transcripts:
        for item in t.rows:
            writer.writerow(csv_row(t.learner_id, item))
    return out.getvalue()


def csv_row(learner_id: str, item: TranscriptRow) -> list[str]:
    """Return one CSV row for a transcript row."""
    record = item.record
    return [
        learner_id,
        item.date,
        safe_cell(item.title),
        record.activity_type,
        record.module_id or "",
        record.module_version or "",
        record.credit_type,
        shared.amount_text(item.amount),
        record.kind,
        "" if record.reverses is None else str(record.reverses),
        "" if item.reversed_by is None else str(item.reversed_by),
        safe_cell(record.reason or ""),
        str(record.sequence),
        record.record_hash,
    ]


def safe_cell(text: str) -> str:
    """Keep spreadsheets from running text as a formula (a leading = + - @ gets a quote)."""
    return "'" + text if text[:1] in FORMULA_STARTS else text

"""Practice measure cases in SQLite, without patient identifiers (no patient or encounter ids;
dates to the day): what `outcomes compute --save` keeps. Not de-identified in the HIPAA Safe
Harbor sense: the clinician and the exact day are kept.

Only what the dashboards need is stored: the measure, the attributed clinician, the day (never a
finer time) and the excluded / numerator flags of each denominator case. No patient reference,
no encounter id. An import covers a period of days [start, end); saving one replaces every case
stored before for any day of that period, so re-running a month never double counts it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from app.db import SqliteStore
from app.outcomes.cases import MeasureCase

migrations = Migrations("bedside.practice")
SOURCES = ("ndjson", "fhir")


@migrations()
def create_practice_tables(db: Database) -> None:
    """Imports (a period of days) and their denominator cases without patient identifiers."""
    db["practice_imports"].create(
        {
            "import_id": int,
            "period_start": str,
            "period_end": str,
            "imported_at": str,
            "source": str,
            "cases": int,
        },
        pk="import_id",
        not_null={"period_start", "period_end", "imported_at", "source", "cases"},
        strict=True,
    )
    db["practice_cases"].create(
        {
            "import_id": int,
            "measure_id": str,
            "clinician": str,
            "day": str,
            "excluded": int,
            "in_numerator": int,
        },
        not_null={"import_id", "measure_id", "day", "excluded", "in_numerator"},
        foreign_keys=[("import_id", "practice_imports", "import_id")],
        strict=True,
    )
    db["practice_cases"].create_index(["day"])
    db["practice_cases"].create_index(["measure_id", "clinician"])


@dataclass(frozen=True)
class StoredCase:
    """One denominator case without patient identifiers: measure, clinician, day, two flags."""

    measure_id: str
    clinician: str | None
    day: date
    excluded: bool
    in_numerator: bool

    def as_measure_case(self) -> MeasureCase:
        """The case in the form the statistics take (midnight UTC of its day, no patient)."""
        return MeasureCase(
            measure_id=self.measure_id,
            patient_key="",
            encounter_id="",
            clinician=self.clinician,
            period_start=day_start(self.day),
            in_denominator=True,
            excluded=self.excluded,
            in_numerator=self.in_numerator and not self.excluded,
        )


@dataclass(frozen=True)
class ImportSummary:
    """What one save did: the period, how many cases it stored and replaced, and those left out."""

    start: date
    end: date
    saved: int
    replaced: int
    undated: int


@dataclass(frozen=True)
class StoredPractice:
    """Every stored case, the days they span and when the latest import ran."""

    cases: list[StoredCase]
    start: date
    end: date
    imported_at: str


def deidentify(cases: Iterable[MeasureCase]) -> tuple[list[StoredCase], int]:
    """Keep denominator cases as StoredCase (day only); also count the undated ones left out."""
    kept: list[StoredCase] = []
    undated = 0
    for case in cases:
        if not case.in_denominator:
            continue
        if case.period_start is None:
            undated += 1
            continue
        day = case.period_start.astimezone(UTC).date()
        kept.append(
            StoredCase(case.measure_id, case.clinician, day, case.excluded, case.in_numerator)
        )
    return kept, undated


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of a day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def period_days(start: datetime, end: datetime) -> tuple[date, date]:
    """The days [first, last + 1) an import covers: a partial last day counts as covered."""
    first = start.astimezone(UTC).date()
    end_utc = end.astimezone(UTC)
    last = end_utc.date() if end_utc == day_start(end_utc.date()) else end_utc.date() + timedelta(1)
    return first, max(last, first + timedelta(1))


class PracticeStore(SqliteStore):
    """Saves imports of cases without patient identifiers and reads them back for dashboards."""

    def __init__(self, path: Path):
        super().__init__(path, migrations)

    def save_import(
        self, cases: Iterable[MeasureCase], start: datetime, end: datetime, source: str
    ) -> ImportSummary:
        """Replace the period's stored cases with these (no patient ids), in one transaction."""
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}")
        first, last = period_days(start, end)
        kept, undated = deidentify(cases)
        kept = [case for case in kept if first <= case.day < last]
        span = (first.isoformat(), last.isoformat())
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self._connection() as db:
            replaced = db.execute(
                "DELETE FROM practice_cases WHERE day >= ? AND day < ?", span
            ).rowcount
            db.execute(
                "DELETE FROM practice_imports WHERE (period_start >= ? AND period_end <= ?)"
                " OR import_id NOT IN (SELECT DISTINCT import_id FROM practice_cases)",
                span,
            )
            import_id = db.execute(
                "INSERT INTO practice_imports (period_start, period_end, imported_at, source,"
                " cases) VALUES (?, ?, ?, ?, ?)",
                (*span, now, source, len(kept)),
            ).lastrowid
            db.executemany(
                "INSERT INTO practice_cases VALUES (?, ?, ?, ?, ?, ?)",
                [_row(import_id, case) for case in kept],
            )
        return ImportSummary(first, last, len(kept), replaced, undated)

    def load(self) -> StoredPractice | None:
        """Every stored case and the span of the imports, or None when nothing was imported."""
        db = self._connection()
        span = db.execute(
            "SELECT min(period_start), max(period_end), max(imported_at) FROM practice_imports"
        ).fetchone()
        if span is None or span[0] is None:
            return None
        rows = db.execute(
            "SELECT measure_id, clinician, day, excluded, in_numerator FROM practice_cases"
            " ORDER BY measure_id, day"
        ).fetchall()
        cases = [
            StoredCase(measure, who, date.fromisoformat(day), bool(excluded), bool(met))
            for measure, who, day, excluded, met in rows
        ]
        return StoredPractice(
            cases, date.fromisoformat(span[0]), date.fromisoformat(span[1]), span[2]
        )


def _row(import_id: int, case: StoredCase) -> tuple:
    """A practice_cases row."""
    return (
        import_id,
        case.measure_id,
        case.clinician,
        case.day.isoformat(),
        int(case.excluded),
        int(case.in_numerator),
    )

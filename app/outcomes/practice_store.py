"""Practice measure cases without patient identifiers (no patient or encounter ids; dates to
the day), in the shared database (SQLite or PostgreSQL): what `outcomes compute --save` keeps.
Not de-identified in the HIPAA Safe Harbor sense: the clinician and the exact day are kept.

Only what the dashboards need is stored: the measure, the attributed clinician, the day (never a
finer time) and the excluded / numerator flags of each denominator case. No patient reference,
no encounter id. An import covers a period of days [start, end); saving one replaces every case
stored before for any day of that period, so re-running a month never double counts it.
A save is one transaction and saves never interleave, on SQLite and on PostgreSQL alike, so a
dashboard reads the cases from before a save or after it, never half of one. Its rows and keyed
hashes are made before that transaction begins, so it holds the write lock only to delete and
insert (on SQLite that lock is the whole file's: every other writer waits for it).

Incremental loads (a Bulk `_since` export: only what changed) are merged per encounter instead:
each case carries an encounter key, an HMAC-SHA256 of the patient and encounter ids under a
random key made once per database (table practice_key), and a merge replaces the stored cases of
every encounter it saw, so a re-run changes nothing and an updated encounter is counted once.
The key is not an id: without the database's key it links to nothing; with it, someone holding
candidate ids could confirm them, so the database stays as closely held as before.

Deleted resources (the Bulk `deleted` Bundles of a `_since` export) are found the same way:
table practice_encounters holds, per stored encounter key, keyed hashes of its `Encounter/<id>`
and `Patient/<id>` references, so a merge naming a deleted encounter or patient removes its
cases (and those rows). That table links the cases of one patient to each other (still no id);
cases saved before it existed are found by merges per encounter but not by deletions.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter

from sqlalchemy import Connection, bindparam, text
from sqlite_utils import Database as SqliteFile
from sqlite_utils.migrations import Migrations

from app.database import POSTGRESQL, Database, StoreSchema
from app.identity import keyed_hash
from app.outcomes.cases import MeasureCase

migrations = Migrations("bedside.practice")
SOURCES = ("ndjson", "fhir")
DELETE_CHUNK = 500
UNKNOWN_PATIENT = {"", "unknown"}  # PatientRecord.key when the Patient resource is missing
ORPHAN_IMPORT = "import_id NOT IN (SELECT DISTINCT import_id FROM practice_cases)"


@migrations()
def create_practice_tables(db: SqliteFile) -> None:
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


@migrations()
def add_encounter_keys(db: SqliteFile) -> None:
    """Each case's keyed encounter hash (for per-encounter merges) and the database's key."""
    db["practice_cases"].add_column("encounter_key", str)
    db["practice_cases"].create_index(["measure_id", "encounter_key"])
    db["practice_key"].create({"key_id": int, "secret": str}, pk="key_id", strict=True)


@migrations()
def add_change_counter(db: SqliteFile) -> None:
    """A counter every save and merge adds one to: the version readers cache the cases by."""
    db["practice_changes"].create({"key_id": int, "changes": int}, pk="key_id", strict=True)


@migrations()
def add_encounter_references(db: SqliteFile) -> None:
    """Each stored encounter's keyed Encounter and Patient references, which deletions name."""
    db["practice_encounters"].create(
        {"encounter_key": str, "encounter_ref": str, "patient_ref": str},
        pk="encounter_key",
        not_null={"encounter_ref", "patient_ref"},
        strict=True,
    )
    db["practice_encounters"].create_index(["encounter_ref"])
    db["practice_encounters"].create_index(["patient_ref"])


# The same tables on PostgreSQL. Ordered text columns collate "C": byte order, as SQLite sorts.
POSTGRESQL_STEPS = [
    (
        "create_practice_tables",
        """
        CREATE TABLE practice_imports (
            import_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            imported_at TEXT NOT NULL,
            source TEXT NOT NULL,
            cases BIGINT NOT NULL
        );
        CREATE TABLE practice_cases (
            import_id BIGINT NOT NULL REFERENCES practice_imports (import_id),
            measure_id TEXT COLLATE "C" NOT NULL,
            clinician TEXT,
            day TEXT COLLATE "C" NOT NULL,
            excluded INTEGER NOT NULL,
            in_numerator INTEGER NOT NULL
        );
        CREATE INDEX idx_practice_cases_day ON practice_cases (day);
        CREATE INDEX idx_practice_cases_measure_id_clinician
            ON practice_cases (measure_id, clinician)
        """,
    ),
    (
        "add_encounter_keys",
        """
        ALTER TABLE practice_cases ADD COLUMN encounter_key TEXT;
        CREATE INDEX idx_practice_cases_measure_id_encounter_key
            ON practice_cases (measure_id, encounter_key);
        CREATE TABLE practice_key (key_id BIGINT PRIMARY KEY, secret TEXT NOT NULL)
        """,
    ),
    (
        "add_change_counter",
        "CREATE TABLE practice_changes (key_id BIGINT PRIMARY KEY, changes BIGINT NOT NULL)",
    ),
    (
        "add_encounter_references",
        """
        CREATE TABLE practice_encounters (
            encounter_key TEXT PRIMARY KEY,
            encounter_ref TEXT NOT NULL,
            patient_ref TEXT NOT NULL
        );
        CREATE INDEX idx_practice_encounters_encounter_ref ON practice_encounters (encounter_ref);
        CREATE INDEX idx_practice_encounters_patient_ref ON practice_encounters (patient_ref)
        """,
    ),
]
PRACTICE_SCHEMA = StoreSchema(
    "bedside.practice",
    migrations,
    POSTGRESQL_STEPS,
    grants=(
        # a save replaces its period: DELETE, then INSERT under LOCK TABLE … SHARE ROW EXCLUSIVE
        ("SELECT, INSERT, DELETE", ("practice_imports", "practice_cases", "practice_encounters")),
        ("SELECT, INSERT", ("practice_key",)),
        ("SELECT, INSERT, UPDATE", ("practice_changes",)),
        ("USAGE", ("SEQUENCE practice_imports_import_id_seq",)),
    ),
)


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
    without_patient: int = 0  # merges only: cases whose Patient resource was not in the export
    deleted: int | None = None  # merges only: cases of deleted encounters and patients removed


#: How many saves and merges the stored cases have seen (0 before the first since the counter
#: came): one row, added to inside each save's transaction, read in one indexed lookup.
PracticeVersion = int
#: A practice_cases row without its import id: measure, clinician, day, two flags, encounter key.
CaseRow = tuple[str, str | None, str, int, int, str]
#: A practice_encounters row: encounter key, keyed Encounter reference, keyed Patient reference.
ReferenceRow = tuple[str, str, str]


@dataclass(frozen=True)
class StoredPractice:
    """Every stored case, the days they span, when the latest import ran, and their version."""

    cases: list[StoredCase]
    start: date
    end: date
    imported_at: str
    version: PracticeVersion = 0


def encounter_key(key: bytes, case: MeasureCase) -> str:
    """The keyed hash that finds an encounter's case again (not the patient or encounter id)."""
    return keyed_hash(key, "practice-encounter", case.patient_key, case.encounter_id)


def reference_key(key: bytes, reference: str) -> str:
    """The keyed hash of a resource reference (`Encounter/<id>`, `Patient/<id>`), not the id."""
    return keyed_hash(key, "practice-reference", reference)


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of a day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def period_days(start: datetime, end: datetime) -> tuple[date, date]:
    """The days [first, last + 1) an import covers: a partial last day counts as covered."""
    first = start.astimezone(UTC).date()
    end_utc = end.astimezone(UTC)
    last = end_utc.date() if end_utc == day_start(end_utc.date()) else end_utc.date() + timedelta(1)
    return first, max(last, first + timedelta(1))


class PracticeStore:
    """Saves imports of cases without patient identifiers and reads them back for dashboards."""

    def __init__(self, database: Database):
        self.database = database
        database.migrate(PRACTICE_SCHEMA)

    def save_import(
        self, cases: Iterable[MeasureCase], start: datetime, end: datetime, source: str
    ) -> ImportSummary:
        """Replace the period's stored cases with these (no patient ids), in one transaction."""
        _check_source(source)
        first, last = period_days(start, end)
        kept, undated = _dated(cases)
        kept = [(case, stored) for case, stored in kept if first <= stored.day < last]
        key = self._encounter_hash_key()
        rows, references = _case_rows(key, kept), _reference_rows(key, kept)
        span = {"first": first.isoformat(), "last": last.isoformat()}
        with self.database.write() as connection:
            self._wait_for_other_saves(connection)
            replaced = connection.execute(
                text("DELETE FROM practice_cases WHERE day >= :first AND day < :last"), span
            ).rowcount
            connection.execute(
                text(
                    "DELETE FROM practice_imports"
                    " WHERE (period_start >= :first AND period_end <= :last)"
                    f" OR {ORPHAN_IMPORT}"
                ),
                span,
            )
            self._insert(connection, rows, first, last, source)
            _insert_references(connection, references)
            _count_change(connection)
        return ImportSummary(first, last, len(kept), replaced, undated)

    def merge_import(
        self, cases: Iterable[MeasureCase], source: str, deleted: Iterable[str] | None = None
    ) -> ImportSummary:
        """Replace the stored cases of every encounter these cases come from, in one transaction.

        For incremental (`_since`) exports: each encounter seen (in or out of a denominator)
        loses its earlier cases and gets these; encounters not seen keep theirs. Cases of a
        patient whose Patient resource is missing are left out: their verdicts (no birth date)
        and keys (no patient id) would be wrong. `deleted` references (`Encounter/<id>`,
        `Patient/<id>`: the export's deleted resources) lose every stored case first.
        """
        _check_source(source)
        given = list(cases)
        cases = [case for case in given if case.patient_key not in UNKNOWN_PATIENT]
        kept, undated = _dated(cases)
        days = [stored.day for _, stored in kept] or [datetime.now(UTC).date()]
        first, last = min(days), max(days) + timedelta(days=1)
        key = self._encounter_hash_key()
        seen: dict[str, set[str]] = {}
        for case in cases:
            seen.setdefault(case.measure_id, set()).add(encounter_key(key, case))
        rows, references = _case_rows(key, kept), _reference_rows(key, kept)
        named = sorted({reference_key(key, reference) for reference in deleted or ()})
        with self.database.write() as connection:
            self._wait_for_other_saves(connection)
            removed = _delete_named(connection, named)
            replaced = sum(
                _delete_encounters(connection, measure_id, sorted(keys))
                for measure_id, keys in seen.items()
            )
            connection.execute(text(f"DELETE FROM practice_imports WHERE {ORPHAN_IMPORT}"))
            if rows:
                self._insert(connection, rows, first, last, source)
            _insert_references(connection, references)
            _count_change(connection)
        without_patient = len(given) - len(cases)
        removed_count = removed if deleted is not None else None
        return ImportSummary(
            first, last, len(kept), replaced, undated, without_patient, removed_count
        )

    def _insert(
        self, connection: Connection, rows: list[CaseRow], first: date, last: date, source: str
    ) -> None:
        """Record an import of [first, last) and its cases (rows made before the write began)."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        import_id = connection.execute(
            text(
                "INSERT INTO practice_imports (period_start, period_end, imported_at, source,"
                " cases) VALUES (:first, :last, :now, :source, :cases) RETURNING import_id"
            ),
            {
                "first": first.isoformat(),
                "last": last.isoformat(),
                "now": now,
                "source": source,
                "cases": len(rows),
            },
        ).scalar_one()
        if rows:
            marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
            connection.exec_driver_sql(
                "INSERT INTO practice_cases (import_id, measure_id, clinician, day, excluded,"
                f" in_numerator, encounter_key) VALUES ({', '.join([marker] * 7)})",
                [(import_id, *row) for row in rows],
            )

    def _encounter_hash_key(self) -> bytes:
        """The database's encounter-key secret, read (or made, once) before a save's write."""
        with self.database.read() as connection:
            secret = _stored_secret(connection)
        if secret is not None:
            return bytes.fromhex(secret)
        with self.database.write() as connection:
            self._wait_for_other_saves(connection)
            return self._hash_key(connection)

    def _hash_key(self, connection: Connection) -> bytes:
        """The database's encounter-key secret, made on first use (saves take turns: once)."""
        secret = _stored_secret(connection)
        if secret is None:
            secret = secrets.token_hex(32)
            connection.execute(
                text("INSERT INTO practice_key (key_id, secret) VALUES (1, :secret)"),
                {"secret": secret},
            )
        return bytes.fromhex(secret)

    def version(self) -> PracticeVersion:
        """The stored cases' version: a cheap read that changes whenever a save or merge does."""
        with self._snapshot() as connection:
            return _version(connection)

    def load(self) -> StoredPractice | None:
        """Every stored case and the span of the imports, or None when nothing was imported."""
        with self._snapshot() as connection:
            version = _version(connection)
            span = connection.execute(
                text(
                    "SELECT min(period_start), max(period_end), max(imported_at)"
                    " FROM practice_imports"
                )
            ).fetchone()
            if span is None or span[0] is None:
                return None
            rows = connection.execute(
                text(
                    "SELECT measure_id, clinician, day, excluded, in_numerator FROM practice_cases"
                    " ORDER BY measure_id, day"
                )
            ).fetchall()
        cases = [
            StoredCase(measure, who, date.fromisoformat(day), bool(excluded), bool(met))
            for measure, who, day, excluded, met in rows
        ]
        return StoredPractice(
            cases, date.fromisoformat(span[0]), date.fromisoformat(span[1]), span[2], version
        )

    def _wait_for_other_saves(self, connection: Connection) -> None:
        """Make saves take turns (SQLite's BEGIN IMMEDIATE already does; PostgreSQL needs a lock).

        Without it, two overlapping saves at READ COMMITTED would each miss the cases the other
        inserts, and both sets would stay. The lock lets readers through.
        """
        if self.database.dialect == POSTGRESQL:
            connection.execute(text("LOCK TABLE practice_imports IN SHARE ROW EXCLUSIVE MODE"))

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        """A read whose statements all see one snapshot (SQLite's read transaction already does)."""
        with self.database.read() as connection:
            if self.database.dialect == POSTGRESQL:
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            yield connection


def _stored_secret(connection: Connection) -> str | None:
    """The encounter-key secret, if one was made."""
    return connection.execute(
        text("SELECT secret FROM practice_key WHERE key_id = 1")
    ).scalar_one_or_none()


def _case_rows(key: bytes, kept: list[tuple[MeasureCase, StoredCase]]) -> list[CaseRow]:
    """The practice_cases values of each kept case but its import id, encounter key included.

    Sorted by measure and encounter key, so the index on them is written in order: a large save
    holds the database's write lock for less time (SQLite's lock is the whole file's).
    """
    rows = [
        (
            stored.measure_id,
            stored.clinician,
            stored.day.isoformat(),
            int(stored.excluded),
            int(stored.in_numerator),
            encounter_key(key, case),
        )
        for case, stored in kept
    ]
    rows.sort(key=itemgetter(0, 5))
    return rows


def _reference_rows(key: bytes, kept: list[tuple[MeasureCase, StoredCase]]) -> list[ReferenceRow]:
    """The practice_encounters rows of the kept cases' encounters (none for unknown patients)."""
    rows = {
        (
            encounter_key(key, case),
            reference_key(key, f"Encounter/{case.encounter_id}"),
            reference_key(key, f"Patient/{case.patient_key}"),
        )
        for case, _ in kept
        if case.patient_key not in UNKNOWN_PATIENT
    }
    return sorted(rows)


def _insert_references(connection: Connection, rows: list[ReferenceRow]) -> None:
    """Record the encounters' keyed references (those already recorded stay as they are)."""
    if not rows:
        return
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(
        "INSERT INTO practice_encounters (encounter_key, encounter_ref, patient_ref)"
        f" VALUES ({marker}, {marker}, {marker}) ON CONFLICT (encounter_key) DO NOTHING",
        rows,
    )


def _delete_named(connection: Connection, references: list[str]) -> int:
    """Delete the stored cases of the encounters and patients these keyed references name.

    Their practice_encounters rows go too; returns how many cases were deleted.
    """
    keys = sorted(_named_encounter_keys(connection, references))
    if not keys:
        return 0
    measure_ids = (
        connection.execute(text("SELECT DISTINCT measure_id FROM practice_cases")).scalars().all()
    )
    deleted = sum(_delete_encounters(connection, measure_id, keys) for measure_id in measure_ids)
    statement = text("DELETE FROM practice_encounters WHERE encounter_key IN :keys").bindparams(
        bindparam("keys", expanding=True)
    )
    for at in range(0, len(keys), DELETE_CHUNK):
        connection.execute(statement, {"keys": keys[at : at + DELETE_CHUNK]})
    return deleted


def _named_encounter_keys(connection: Connection, references: list[str]) -> set[str]:
    """The stored encounter keys whose Encounter or Patient reference is one of these."""
    found: set[str] = set()
    for column in ("encounter_ref", "patient_ref"):
        statement = text(
            f"SELECT encounter_key FROM practice_encounters WHERE {column} IN :refs"
        ).bindparams(bindparam("refs", expanding=True))
        for at in range(0, len(references), DELETE_CHUNK):
            chunk = references[at : at + DELETE_CHUNK]
            found.update(connection.execute(statement, {"refs": chunk}).scalars())
    return found


def _version(connection: Connection) -> PracticeVersion:
    """The version of the stored cases, as this connection sees them."""
    changes = connection.execute(
        text("SELECT changes FROM practice_changes WHERE key_id = 1")
    ).scalar_one_or_none()
    return int(changes or 0)


def _count_change(connection: Connection) -> None:
    """Add one to the change counter, inside a save's transaction (saves take turns)."""
    counted = connection.execute(
        text("UPDATE practice_changes SET changes = changes + 1 WHERE key_id = 1")
    ).rowcount
    if not counted:
        connection.execute(text("INSERT INTO practice_changes (key_id, changes) VALUES (1, 1)"))


def _dated(cases: Iterable[MeasureCase]) -> tuple[list[tuple[MeasureCase, StoredCase]], int]:
    """Denominator cases with a date, each with its StoredCase; and how many had no date."""
    kept: list[tuple[MeasureCase, StoredCase]] = []
    undated = 0
    for case in cases:
        if not case.in_denominator:
            continue
        if case.period_start is None:
            undated += 1
            continue
        day = case.period_start.astimezone(UTC).date()
        stored = StoredCase(case.measure_id, case.clinician, day, case.excluded, case.in_numerator)
        kept.append((case, stored))
    return kept, undated


def _delete_encounters(connection: Connection, measure_id: str, keys: list[str]) -> int:
    """Delete a measure's stored cases of these encounter keys, in chunks; return how many."""
    deleted = 0
    statement = text(
        "DELETE FROM practice_cases WHERE measure_id = :measure_id AND encounter_key IN :keys"
    ).bindparams(bindparam("keys", expanding=True))
    for at in range(0, len(keys), DELETE_CHUNK):
        chunk = keys[at : at + DELETE_CHUNK]
        deleted += connection.execute(statement, {"measure_id": measure_id, "keys": chunk}).rowcount
    return deleted


def _check_source(source: str) -> None:
    """Refuse a source name the imports table does not know."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")

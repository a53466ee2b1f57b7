"""Stream FHIR Bulk Data NDJSON files into per-patient resource groups with bounded memory.

Memory: files are read one line at a time and each line is spooled, with its patient id, into a
temporary on-disk SQLite file (deleted afterwards); groups are then read back one patient at a
time. So memory holds one patient's resources plus a small insert batch, never the whole export;
disk needs roughly the export's size once more. Medication resources (no patient, and few) are
kept in memory by id and added to each group that references them; other resources with no
patient (Practitioner, Organization...) are not needed by the measures and are skipped.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from app.outcomes.bulk import patient_id_of
from app.outcomes.medications import MedicationLookup, remember, with_medications

BATCH = 1000
Progress = Callable[[int], None]


class NdjsonError(Exception):
    """An NDJSON export that cannot be read; the message names the file and line."""


def ndjson_files(directory: Path) -> list[Path]:
    """The `*.ndjson` files of an export directory, sorted by name (error if there are none)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise NdjsonError(f"NDJSON directory {directory} does not exist")
    files = sorted(directory.glob("*.ndjson"))
    if not files:
        raise NdjsonError(f"NDJSON directory {directory} has no *.ndjson files")
    return files


def iter_ndjson(path: Path) -> Iterator[tuple[str, dict]]:
    """Yield (line, resource) for each non-blank line of one NDJSON file, streamed."""
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                resource = json.loads(line)
            except ValueError:
                raise NdjsonError(f"{path.name} line {number} is not valid JSON") from None
            if not isinstance(resource, dict) or not resource.get("resourceType"):
                raise NdjsonError(f"{path.name} line {number} is not a FHIR resource")
            yield line.strip(), resource


def count_lines(directory: Path) -> int:
    """How many non-blank lines the export's NDJSON files hold (for a progress bar)."""
    total = 0
    for path in ndjson_files(directory):
        with path.open(encoding="utf-8") as lines:
            total += sum(1 for line in lines if line.strip())
    return total


def patient_groups(
    directory: Path,
    *,
    spool_dir: Path | None = None,
    progress: Progress | None = None,
    medications: MedicationLookup | None = None,
) -> Iterator[list[dict]]:
    """Yield each patient's resources (plus the Medications they reference), one patient at a time.

    `progress(n)` is called with the number of lines read since the last call; `medications`
    (a dict, filled here before the first group is yielded) collects the export's Medications.
    """
    files = ndjson_files(directory)
    lookup = {} if medications is None else medications
    with tempfile.TemporaryDirectory(prefix="bedside-ndjson-", dir=spool_dir) as tmp:
        db = sqlite3.connect(Path(tmp) / "spool.sqlite")
        try:
            _spool(db, files, progress, lookup)
            for group in _read_back(db):
                yield with_medications(group, lookup)
        finally:
            db.close()


def _spool(
    db: sqlite3.Connection, files: list[Path], progress: Progress | None, lookup: MedicationLookup
) -> None:
    """Write every patient-linked line into the spool table, in batches; keep Medications."""
    db.execute("CREATE TABLE spool (patient TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT)")
    batch: list[tuple[str, int, str]] = []
    seq = reported = 0
    for path in files:
        for line, resource in iter_ndjson(path):
            seq += 1
            patient = patient_id_of(resource)
            if patient:
                batch.append((patient, seq, line))
            else:
                remember(lookup, resource)
            if seq - reported >= BATCH:
                _flush(db, batch, progress, seq - reported)
                reported = seq
        _flush(db, batch, progress, seq - reported)
        reported = seq
    db.execute("CREATE INDEX spool_patient ON spool (patient, seq)")
    db.commit()


def _flush(db: sqlite3.Connection, batch: list, progress: Progress | None, read: int) -> None:
    """Insert and clear a batch of spooled lines, reporting how many lines were read."""
    if batch:
        db.executemany("INSERT INTO spool VALUES (?, ?, ?)", batch)
        batch.clear()
    if progress is not None and read:
        progress(read)


def _read_back(db: sqlite3.Connection) -> Iterator[list[dict]]:
    """Yield groups of consecutive rows per patient (sorted by patient id, then file order)."""
    current: str | None = None
    group: list[dict] = []
    for patient, body in db.execute("SELECT patient, body FROM spool ORDER BY patient, seq"):
        if patient != current and group:
            yield group
            group = []
        current = patient
        group.append(json.loads(body))
    if group:
        yield group

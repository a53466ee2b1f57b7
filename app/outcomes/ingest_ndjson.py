"""Stream FHIR Bulk Data NDJSON files into per-patient resource groups with bounded memory.

Memory: files are read one line at a time and each line is spooled, with its patient id, into a
temporary on-disk SQLite file (deleted afterwards); groups are then read back one patient at a
time. So memory holds one patient's resources plus a small insert batch, never the whole export;
disk needs roughly the export's size once more. Medication resources (no patient, and few) are
kept in memory by id and added to each group that references them; other resources with no
patient (Practitioner, Organization...) and types no measure reads are not spooled at all.

Speed: lines are parsed with orjson straight from bytes, once while spooling (to find the
patient) and once when read back; the spool is a throwaway file, so SQLite skips its journal
and fsyncs. Each spooled line carries a partition number (a stable hash of the patient id), so
`--workers N` processes can each read back their own patients from the one spool.
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from app.outcomes.bulk import patient_id_of
from app.outcomes.ingest_fhir import MEASURE_TYPES
from app.outcomes.medications import MedicationLookup, remember, with_medications

BATCH = 5000
SPOOLED_TYPES = frozenset(MEASURE_TYPES) - {"Medication"}
Progress = Callable[[int], None]


class NdjsonError(Exception):
    """An NDJSON export that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Spool:
    """An export spooled to disk: the spool file, its partitions and the export's Medications."""

    path: Path
    partitions: int
    medications: MedicationLookup

    def groups(self, partition: int = 0) -> Iterator[list[dict]]:
        """One partition's patients (all of them with one partition), by patient id."""
        return (group for _, group in self.patients(partition))

    def patients(self, partition: int = 0) -> Iterator[tuple[str, list[dict]]]:
        """(patient id, resources plus referenced Medications) of one partition, by patient id."""
        return read_patients(self.path, self.medications, partition)


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
    for line, resource in parsed_lines(path):
        yield line.decode("utf-8").strip(), resource


def parsed_lines(path: Path) -> Iterator[tuple[bytes, dict]]:
    """Yield (raw line, resource) for each non-blank line, checked to be a FHIR resource."""
    with Path(path).open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                resource = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise NdjsonError(f"{path.name} line {number} is not valid JSON") from None
            if not isinstance(resource, dict) or not resource.get("resourceType"):
                raise NdjsonError(f"{path.name} line {number} is not a FHIR resource")
            yield line, resource


def count_lines(directory: Path) -> int:
    """How many non-blank lines the export's NDJSON files hold (for a progress bar)."""
    total = 0
    for path in ndjson_files(directory):
        with path.open("rb") as lines:
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
    with spooled(directory, spool_dir=spool_dir, progress=progress) as spool:
        if medications is not None:
            medications.update(spool.medications)
        yield from spool.groups()


@contextlib.contextmanager
def spooled(
    directory: Path,
    *,
    partitions: int = 1,
    spool_dir: Path | None = None,
    progress: Progress | None = None,
) -> Iterator[Spool]:
    """Spool an export to a temporary file, partitioned by patient; delete it afterwards."""
    files = ndjson_files(directory)
    with tempfile.TemporaryDirectory(prefix="bedside-ndjson-", dir=spool_dir) as tmp:
        path = Path(tmp) / "spool.sqlite"
        medications: MedicationLookup = {}
        db = sqlite3.connect(path)
        try:
            _spool(db, files, partitions, progress, medications)
        finally:
            db.close()
        yield Spool(path, partitions, medications)


def partition_of(patient: str, partitions: int) -> int:
    """The partition of a patient id: a hash that is the same in every process and run."""
    return zlib.crc32(patient.encode("utf-8")) % partitions


def read_patients(
    path: Path, medications: MedicationLookup, partition: int = 0
) -> Iterator[tuple[str, list[dict]]]:
    """Yield a partition's spooled rows grouped per patient (by patient id, then file order)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        query = "SELECT patient, body FROM spool WHERE part = ? ORDER BY patient, seq"
        current = ""
        group: list[dict] = []
        for patient, body in db.execute(query, (partition,)):
            if patient != current and group:
                yield current, with_medications(group, medications)
                group = []
            current = patient
            group.append(orjson.loads(body))
        if group:
            yield current, with_medications(group, medications)
    finally:
        db.close()


def _spool(
    db: sqlite3.Connection,
    files: list[Path],
    partitions: int,
    progress: Progress | None,
    lookup: MedicationLookup,
) -> None:
    """Write every patient-linked line a measure reads into the spool table; keep Medications."""
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute(
        "CREATE TABLE spool (part INTEGER NOT NULL, patient TEXT NOT NULL, seq INTEGER NOT NULL,"
        " body BLOB NOT NULL)"
    )
    batch: list[tuple[int, str, int, bytes]] = []
    seq = reported = 0
    for path in files:
        for line, resource in parsed_lines(path):
            seq += 1
            patient = patient_id_of(resource)
            if patient and resource["resourceType"] in SPOOLED_TYPES:
                batch.append((partition_of(patient, partitions), patient, seq, line))
            elif not patient:
                remember(lookup, resource)
            if seq - reported >= BATCH:
                _flush(db, batch, progress, seq - reported)
                reported = seq
        _flush(db, batch, progress, seq - reported)
        reported = seq
    db.execute("CREATE INDEX spool_patient ON spool (part, patient, seq)")
    db.commit()


def _flush(db: sqlite3.Connection, batch: list, progress: Progress | None, read: int) -> None:
    """Insert and clear a batch of spooled lines, reporting how many lines were read."""
    if batch:
        db.executemany("INSERT INTO spool VALUES (?, ?, ?, ?)", batch)
        batch.clear()
    if progress is not None and read:
        progress(read)

"""Stream FHIR Bulk Data NDJSON files into per-patient resource groups with bounded memory.

Memory: files are read one line at a time; each line a measure reads is kept as raw bytes with its
patient id (never as parsed JSON, which takes about five times the space and slows every garbage
collection) in a chunk of at most `CHUNK_BYTES`, counting each line's Python objects (its bytes,
patient id, tuple and list slot: about 150 bytes more than the raw line) as well as its text. A
full chunk is sorted by patient in memory and written as one sorted run per partition into a
temporary directory (deleted afterwards); reading back merges the runs, at most `MERGE_FAN_IN` at
a time (more runs are first merged in passes into intermediate runs, so open files stay bounded
whatever the export's size), so memory holds one chunk while spooling (one per process spooling
in parallel), then one line per open run
plus one patient's resources. An export that fits in one chunk (and one partition) never touches
the disk.
Medication resources (no patient, and few) are kept in memory by id and added to each group that
references them; other resources with no patient (Practitioner, Organization...) and types no
measure reads are not spooled at all, nor are those an `admits` test turns away (the measures'
value-set gate: vital signs and routine labs no measure reads), which are only counted.

Speed: lines are parsed with orjson straight from bytes, once while spooling (to find the
patient) and once when read back (parsing again costs less than keeping the parsed resources);
sorting in memory and appending runs replaced an SQLite spool and its index, which cost as much
as the parsing. Each spooled line carries a partition number (a stable hash of the patient id),
so `--workers N` processes can each read back their own patients from their own runs. Those
processes spool too: the export's bytes are cut into shares (`export_shares`; a line belongs to
the share its first byte is in), each process spools its shares into runs of its own
(`spool_share`), and `joined` lists every share's runs in export order, so the merge still
yields each patient's lines in file order.

Duplicates: a resource given more than once (the same resourceType and id, e.g. in a stale file
an earlier export left) is read once: the last copy in export order (files by name, then lines
in order) is kept, at its place, and the others are counted (`Duplicates`). Patients' resources
are compared within each patient's group when it is read back (so memory stays one patient's),
the shared Medications by id in their lookup. Copies of one resource filed under two patients
stay in both groups.

Lines: a line longer than `MAX_LINE_BYTES` is refused (it is read in bounded pieces, never held
whole); a file that cannot be opened or read (a directory, a broken link, no permission) is an
`NdjsonError` naming it, as is a line that is not JSON.

Incremental exports: `export_since` reads `manifest.json` (the kick-off request's `_since`), and
`deleted_references` the Encounters and Patients named by the Bundles under `deleted/`.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import re
import struct
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qs, urlsplit

import orjson

from app.fhir_json import as_str, dicts_in
from app.outcomes.bulk import patient_id_of
from app.outcomes.ingest_fhir import MEASURE_TYPES
from app.outcomes.medications import MedicationLookup, remember, with_medications

BATCH = 5000  # lines read between two progress reports
CHUNK_BYTES = 32 * 2**20  # memory a chunk of lines may take before a sorted run goes to disk
MERGE_FAN_IN = 64  # run files a merge reads at once (far below the usual 1,024 open-file limit)
MAX_LINE_BYTES = 64 * 2**20  # the longest line (without its newline) an export may hold
TOO_LONG = f"is longer than {MAX_LINE_BYTES // 2**20} MiB"
DELETED_DIR = "deleted"  # the Bulk `deleted` Bundles of an incremental export
DELETED_TYPES = frozenset({"Encounter", "Patient"})  # deletions that remove saved cases
MANIFEST = "manifest.json"
REFERENCE_PART = re.compile(r"[A-Z][A-Za-z]+")  # a resource type in a reference's path
ID_PART = re.compile(r"[A-Za-z0-9\-.]{1,64}")  # a FHIR logical id
SPOOLED_TYPES = frozenset(MEASURE_TYPES) - {"Medication"}
RECORD_HEADER = struct.Struct("<II")  # a run record: patient id length, line length
Progress = Callable[[int], None]
Admits = Callable[[dict], bool]  # whether a patient's resource can matter to the measures
Spooled = tuple[int, str, bytes]  # (partition, patient id, raw line), in file order
FileRange = tuple[Path, int, int | None]  # a file and the byte range [start, end) of lines to read
Share = list[FileRange]  # one process's part of an export: ranges of its files, in export order
HELD_LINE_BYTES = sys.getsizeof((0, "", b"")) + 8  # a Spooled tuple and its chunk list slot


class NdjsonError(Exception):
    """An NDJSON export that cannot be read; the message names the file and line."""


@dataclass
class Duplicates:
    """How many copies of resources reading an export left out (a later copy replaced each)."""

    dropped: int = 0


@dataclass(frozen=True)
class Spool:
    """An export spooled by patient: its sorted runs on disk (or the one chunk held in memory)."""

    directory: Path
    partitions: int
    medications: MedicationLookup
    run_names: tuple[str, ...] = ()  # in export order
    left_out: int = 0  # resources of measure types that `admits` turned away
    held: list[Spooled] = field(default_factory=list, repr=False, compare=False)
    dropped_medications: int = 0  # Medications a later one of the same id replaced

    @property
    def runs(self) -> int:
        """How many sorted runs are on disk."""
        return len(self.run_names)

    def groups(
        self, partition: int = 0, duplicates: Duplicates | None = None
    ) -> Iterator[list[dict]]:
        """One partition's patients (all of them with one partition), by patient id."""
        return (group for _, group in self.patients(partition, duplicates))

    def patients(
        self, partition: int = 0, duplicates: Duplicates | None = None
    ) -> Iterator[tuple[str, list[dict]]]:
        """(patient id, resources plus referenced Medications) of one partition, by patient id.

        Each resource is given once (its last copy); `duplicates` counts the copies left out.
        """
        if self.held:
            lines = ((patient, line) for part, patient, line in self.held if part == partition)
        else:
            paths = [run_path(self.directory, run, partition) for run in self.run_names]
            lines = merged_runs(paths)
        return read_patients(lines, self.medications, duplicates)


def ndjson_files(directory: Path) -> list[Path]:
    """The `*.ndjson` files of an export directory, sorted by name, each checked to open.

    An error if there are none, or if one cannot be read (a directory, a broken link...).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise NdjsonError(f"NDJSON directory {directory} does not exist")
    files = sorted(directory.glob("*.ndjson"))
    if not files:
        raise NdjsonError(f"NDJSON directory {directory} has no *.ndjson files")
    for path in files:
        with opened(path):
            pass
    return files


@contextlib.contextmanager
def opened(path: Path) -> Iterator[BinaryIO]:
    """A file open for reading; an OSError opening or reading it is an NdjsonError naming it."""
    try:
        with Path(path).open("rb") as file:
            yield file
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise NdjsonError(f"{Path(path).name} cannot be read ({reason})") from None


def bounded_lines(path: Path, file: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(byte offset, line) of each line from the file's position, a line read in bounded pieces.

    A line longer than MAX_LINE_BYTES (not counting its newline) is refused, never held whole.
    """
    position = file.tell()
    for line in iter(partial(file.readline, MAX_LINE_BYTES + 1), b""):
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            raise NdjsonError(f"{path.name} {line_at(path, position)} {TOO_LONG}")
        yield position, line
        position += len(line)


def skip_line(file: BinaryIO) -> None:
    """Read past the rest of the current line, in bounded pieces."""
    while (piece := file.readline(MAX_LINE_BYTES)) and not piece.endswith(b"\n"):
        pass


def iter_ndjson(path: Path) -> Iterator[tuple[str, dict]]:
    """Yield (line, resource) for each non-blank line of one NDJSON file, streamed."""
    for line, resource in parsed_lines(path):
        yield line.decode("utf-8").strip(), resource


def parsed_lines(
    path: Path, start: int = 0, end: int | None = None
) -> Iterator[tuple[bytes, dict]]:
    """Yield (raw line, resource) for each non-blank line, checked to be a FHIR resource.

    Only the lines whose first byte is in [start, end) are read (all of them by default).
    """
    path = Path(path)
    with opened(path) as lines:
        if start:
            lines.seek(start - 1)
            skip_line(lines)  # the line holding byte start - 1 is the previous share's
        for offset, line in bounded_lines(path, lines):
            if end is not None and offset >= end:
                return
            if not line.strip():
                continue
            try:
                resource = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise NdjsonError(
                    f"{path.name} {line_at(path, offset)} is not valid JSON"
                ) from None
            if not is_resource(resource):
                raise NdjsonError(f"{path.name} {line_at(path, offset)} is not a FHIR resource")
            yield line, resource


def is_resource(value: object) -> bool:
    """A JSON object whose resourceType is a non-empty string."""
    if not isinstance(value, dict):
        return False
    kind = value.get("resourceType")
    return isinstance(kind, str) and bool(kind)


def line_at(path: Path, offset: int) -> str:
    """'line N' for the line starting at a byte offset (counted only when a line is refused)."""
    newlines = 0
    with opened(path) as lines:
        while offset > 0:
            block = lines.read(min(offset, 2**20))
            if not block:
                break
            newlines += block.count(b"\n")
            offset -= len(block)
    return f"line {newlines + 1}"


def count_lines(directory: Path) -> int:
    """How many non-blank lines the export's NDJSON files hold (for a progress bar)."""
    total = 0
    for path in ndjson_files(directory):
        with opened(path) as lines:
            total += sum(1 for _, line in bounded_lines(path, lines) if line.strip())
    return total


def export_since(directory: Path) -> str | None:
    """The `_since` of the kick-off request in the export's manifest (None: a full export).

    None too when there is no manifest (an export from elsewhere); one that is not JSON is an
    NdjsonError naming it.
    """
    path = Path(directory) / MANIFEST
    if not path.exists():
        return None
    with opened(path) as file:
        text = file.read()
    try:
        manifest = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise NdjsonError(f"{MANIFEST} of {directory} is not valid JSON") from None
    request = as_str(manifest.get("request")) if isinstance(manifest, dict) else None
    values = parse_qs(urlsplit(request).query).get("_since") if request else None
    return values[0] if values else None


def deleted_references(directory: Path) -> frozenset[str] | None:
    """`Encounter/<id>` and `Patient/<id>` of what the export's `deleted/*.ndjson` Bundles delete.

    None when the export has no `deleted` folder. Each entry whose request is a DELETE names a
    resource by its URL: the last `Type/id` pair of it counts (relative or absolute, with or
    without a `_history` suffix).
    """
    folder = Path(directory) / DELETED_DIR
    if not folder.is_dir():
        return None
    return frozenset(
        f"{kind}/{resource_id}"
        for path in sorted(folder.glob("*.ndjson"))
        for _, bundle in parsed_lines(path)
        for kind, resource_id in deleted_in(bundle)
        if kind in DELETED_TYPES
    )


def deleted_in(bundle: dict) -> Iterator[tuple[str, str]]:
    """(resource type, id) of each DELETE request of a Bundle (none from other resources)."""
    if bundle["resourceType"] != "Bundle":
        return
    for entry in dicts_in(bundle.get("entry")):
        request = entry.get("request")
        if not isinstance(request, dict) or as_str(request.get("method")) != "DELETE":
            continue
        named = last_type_and_id(as_str(request.get("url")) or "")
        if named is not None:
            yield named


def last_type_and_id(url: str) -> tuple[str, str] | None:
    """The last `Type/id` pair of a resource URL's path, if it has one."""
    parts = urlsplit(url).path.split("/")
    pairs = [
        (kind, resource_id)
        for kind, resource_id in itertools.pairwise(parts)
        if REFERENCE_PART.fullmatch(kind) and ID_PART.fullmatch(resource_id)
    ]
    return pairs[-1] if pairs else None


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
    admits: Admits | None = None,
) -> Iterator[Spool]:
    """Spool an export by patient and partition into a temporary directory; delete it afterwards.

    `admits(resource)` False leaves a patient's resource out (None: every measure type is kept).
    """
    whole: Share = [(path, 0, None) for path in ndjson_files(directory)]
    with spool_directory(spool_dir) as tmp:
        spool, chunk = _spool(tmp, whole, partitions, progress, admits, keep_chunk=True)
        yield joined(tmp, partitions, [spool], held=chunk)


@contextlib.contextmanager
def spool_directory(parent: Path | None) -> Iterator[Path]:
    """A temporary directory for the sorted runs (under parent, if given), deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="bedside-ndjson-", dir=parent) as tmp:
        yield Path(tmp)


def export_shares(files: list[Path], count: int) -> list[Share]:
    """The export's bytes cut into `count` shares of about equal size, in export order."""
    sizes = [file_size(path) for path in files]
    total = sum(sizes)
    bounds = [total * number // count for number in range(count + 1)]
    shares: list[Share] = []
    for low, high in itertools.pairwise(bounds):
        share: Share = []
        file_start = 0
        for path, size in zip(files, sizes, strict=True):
            start, end = max(low, file_start), min(high, file_start + size)
            if start < end:
                share.append((path, start - file_start, end - file_start))
            file_start += size
        shares.append(share)
    return shares


def file_size(path: Path) -> int:
    """A file's size in bytes; an OSError is an NdjsonError naming the file."""
    with opened(path) as file:
        return file.seek(0, 2)


@dataclass(frozen=True)
class SpooledShare:
    """What spooling one share (or the whole export) gave: its runs, Medications and counts."""

    run_names: tuple[str, ...]
    medications: MedicationLookup
    left_out: int
    lines: int
    medication_lines: int = 0  # Medications read, copies of one id included


def spool_share(
    directory: Path,
    label: str,
    share: Share,
    partitions: int,
    admits: Admits | None,
    progress: Progress | None = None,
) -> SpooledShare:
    """Spool one share into sorted runs named after `label` (in a worker process)."""
    spooled_share, _ = _spool(directory, share, partitions, progress, admits, label=label)
    return spooled_share


def joined(
    directory: Path,
    partitions: int,
    shares: list[SpooledShare],
    held: list[Spooled] | None = None,
) -> Spool:
    """One Spool of shares spooled apart, given in export order (later Medications win)."""
    medications: MedicationLookup = {}
    for share in shares:
        medications.update(share.medications)
    return Spool(
        directory,
        partitions,
        medications,
        run_names=tuple(name for share in shares for name in share.run_names),
        left_out=sum(share.left_out for share in shares),
        held=held or [],
        dropped_medications=sum(share.medication_lines for share in shares) - len(medications),
    )


def partition_of(patient: str, partitions: int) -> int:
    """The partition of a patient id: a hash that is the same in every process and run."""
    if partitions == 1:  # every line of a one-process run: no hash to take
        return 0
    return zlib.crc32(patient.encode("utf-8")) % partitions


def read_patients(
    lines: Iterable[tuple[str, bytes]],
    medications: MedicationLookup,
    duplicates: Duplicates | None = None,
) -> Iterator[tuple[str, list[dict]]]:
    """Group (patient id, raw line) pairs sorted by patient into each patient's parsed resources.

    A resource given more than once keeps its last copy; `duplicates` counts the others.
    """
    for patient, patient_lines in itertools.groupby(lines, itemgetter(0)):
        group, dropped = latest_copies([orjson.loads(line) for _, line in patient_lines])
        if duplicates is not None:
            duplicates.dropped += dropped
        yield patient, with_medications(group, medications)


def latest_copies(group: list[dict]) -> tuple[list[dict], int]:
    """The group with each (resourceType, id) once, its last copy at its place; how many left out.

    Resources without an id are all kept.
    """
    seen: set[tuple[str, str]] = set()
    kept: list[dict] = []
    for resource in reversed(group):
        resource_id = as_str(resource.get("id"))
        if resource_id is not None:
            identity = (resource["resourceType"], resource_id)
            if identity in seen:
                continue
            seen.add(identity)
        kept.append(resource)
    kept.reverse()
    return kept, len(group) - len(kept)


def run_path(directory: Path, run: str, partition: int) -> Path:
    """The file of one partition's share of one sorted run."""
    return directory / f"run-{run}-part-{partition:02d}.bin"


def merged_runs(paths: list[Path]) -> Iterator[tuple[str, bytes]]:
    """(patient id, line) of sorted runs merged by patient; equal ids keep run (so file) order."""
    return merged_at_once(fanned_in(paths))


def merged_at_once(paths: list[Path]) -> Iterator[tuple[str, bytes]]:
    """(patient id, line) of a few sorted runs, all open together, merged by patient."""
    runs = [read_run(path) for path in paths]
    if len(runs) == 1:
        return runs[0]
    return heapq.merge(*runs, key=itemgetter(0))  # stable: ties come from the earlier run first


def fanned_in(paths: list[Path]) -> list[Path]:
    """At most MERGE_FAN_IN runs holding the same lines in the same order (merging in passes).

    Each pass merges consecutive groups of runs into one intermediate run each, so a patient's
    lines keep their run order; a pass's intermediates are deleted once the next pass read them.
    """
    made: list[Path] = []
    merge_pass = 0
    while len(paths) > MERGE_FAN_IN:
        merge_pass += 1
        groups = [
            paths[start : start + MERGE_FAN_IN] for start in range(0, len(paths), MERGE_FAN_IN)
        ]
        merged = [intermediate_path(paths[0], merge_pass, n) for n in range(len(groups))]
        for group, target in zip(groups, merged, strict=True):
            write_records(target, merged_at_once(group))
        for path in made:
            path.unlink()
        paths = made = merged
    return paths


def intermediate_path(first: Path, merge_pass: int, group: int) -> Path:
    """The file of one group's merge in one pass, named after the partition's first run."""
    partition = first.name.rsplit("-part-", 1)[-1]
    return first.with_name(f"merge-{merge_pass:02d}-{group:06d}-part-{partition}")


def write_records(path: Path, records: Iterable[tuple[str, bytes]]) -> None:
    """Write (patient id, line) records to one run file."""
    with path.open("wb") as target:
        for patient, line in records:
            target.write(run_record(patient, line))


def run_record(patient: str, line: bytes) -> bytes:
    """One run record: its header, the patient id and the raw line."""
    name = patient.encode("utf-8")
    return RECORD_HEADER.pack(len(name), len(line)) + name + line


def read_run(path: Path) -> Iterator[tuple[str, bytes]]:
    """(patient id, line) of each record of one run file (none when the run had no such lines)."""
    if not path.exists():
        return
    with path.open("rb") as run:
        while header := run.read(RECORD_HEADER.size):
            patient_length, line_length = RECORD_HEADER.unpack(header)
            body = run.read(patient_length + line_length)
            yield body[:patient_length].decode("utf-8"), body[patient_length:]


def _spool(
    directory: Path,
    share: Share,
    partitions: int,
    progress: Progress | None,
    admits: Admits | None,
    *,
    label: str = "",
    keep_chunk: bool = False,
) -> tuple[SpooledShare, list[Spooled]]:
    """Chunk every patient-linked line a measure reads into sorted runs; keep Medications.

    With `keep_chunk`, an export that fits in one chunk (and one partition) stays in memory: it
    is returned sorted by patient, with no run.
    """
    medications: MedicationLookup = {}
    chunk: list[Spooled] = []
    names: list[str] = []
    held_bytes = seq = reported = left_out = medication_lines = 0
    for path, start, end in share:
        for line, resource in parsed_lines(path, start, end):
            seq += 1
            patient = patient_id_of(resource)
            if patient and resource["resourceType"] in SPOOLED_TYPES:
                if admits is None or admits(resource):
                    chunk.append((partition_of(patient, partitions), patient, line))
                    held_bytes += sys.getsizeof(line) + sys.getsizeof(patient) + HELD_LINE_BYTES
                else:
                    left_out += 1
            elif not patient and remember(medications, resource):
                medication_lines += 1
            if held_bytes >= CHUNK_BYTES:
                names.append(_write_run(directory, label, len(names), chunk))
                held_bytes = 0
            if seq - reported >= BATCH:
                _report(progress, seq - reported)
                reported = seq
        _report(progress, seq - reported)
        reported = seq
    if keep_chunk and not names and partitions == 1:
        chunk.sort(key=itemgetter(1))  # stable: each patient's lines stay in file order
        return SpooledShare((), medications, left_out, seq, medication_lines), chunk
    if chunk:
        names.append(_write_run(directory, label, len(names), chunk))
    return SpooledShare(tuple(names), medications, left_out, seq, medication_lines), []


def _report(progress: Progress | None, read: int) -> None:
    """Tell the progress callback how many lines were read since its last call."""
    if progress is not None and read:
        progress(read)


def _write_run(directory: Path, label: str, number: int, chunk: list[Spooled]) -> str:
    """Sort a chunk by partition and patient, write one file per partition, empty it; its name."""
    run = f"{label}{number:06d}"
    chunk.sort(key=itemgetter(0, 1))  # stable: each patient's lines stay in file order
    for partition, lines in itertools.groupby(chunk, itemgetter(0)):
        with run_path(directory, run, partition).open("wb") as target:
            target.writelines(run_record(patient, line) for _, patient, line in lines)
    chunk.clear()
    return run

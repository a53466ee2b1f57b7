"""Evaluate an NDJSON export's measures in several processes, with the same cases as one.

The export is spooled once, without the resources no measure can read
(`measures.value_set_gate`), split into `workers` partitions by a stable hash of the patient id.
The worker processes spool it: each takes shares of the export's bytes
(`ingest_ndjson.export_shares`) and writes sorted runs of its own. Then each worker reads its own
partition back from every run and runs `measures.evaluate_patient` on each patient. The workers
add the lines they read to one shared counter, which the parent reports as progress. A patient's
resources all sit in one partition, so no measure sees half a patient. The workers' cases are
merged by patient id, the order one process yields them in, so every output (JSON, table,
MeasureReport, --save) is identical, and so is the count of duplicate resources left out.
"""

from __future__ import annotations

import heapq
import multiprocessing
import threading
from collections.abc import Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from multiprocessing.sharedctypes import Synchronized
from operator import itemgetter
from pathlib import Path

from app.library.measure_definitions import MeasureDefinition
from app.outcomes.cases import MeasureCase
from app.outcomes.ingest_ndjson import (
    MERGE_FAN_IN,
    Admits,
    Duplicates,
    Progress,
    Share,
    Spool,
    SpooledShare,
    export_shares,
    joined,
    ndjson_files,
    spool_directory,
    spool_share,
    spooled,
)
from app.outcomes.measures import (
    evaluate_patient,
    evaluate_patients,
    evaluator_for,
    value_set_gate,
)

MAX_WORKERS = 64
SHARES_PER_WORKER = 2  # spooling shares per worker: a slow share leaves the others less idle
PROGRESS_SECONDS = 0.25  # how often the parent reports the lines the workers have read
PatientCases = list[tuple[str, list[MeasureCase]]]
PartitionCases = tuple[PatientCases, int]  # a partition's cases and its duplicates left out
LineCounter = Synchronized  # a multiprocessing.Value("q") the workers add their lines to

# In a worker process: the pool's line counter (set by `_count_into` when the worker starts).
_lines_read: LineCounter | None = None


class WorkerError(Exception):
    """A worker process died (killed, or out of memory) before finishing its patients."""


def evaluate_export(
    definitions: Iterable[MeasureDefinition],
    directory: Path,
    *,
    as_of: datetime | None = None,
    workers: int = 1,
    spool_dir: Path | None = None,
    progress: Progress | None = None,
    duplicates: Duplicates | None = None,
) -> list[MeasureCase]:
    """Every measure case of an NDJSON export, by patient id, computed by `workers` processes.

    `duplicates` counts the copies of resources left out (each resource is read once).
    """
    duplicates = Duplicates() if duplicates is None else duplicates
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be 1 to {MAX_WORKERS}")
    definitions = list(definitions)
    for definition in definitions:
        evaluator_for(definition)
    admits = value_set_gate(definitions).admits
    if workers == 1:
        with spooled(directory, spool_dir=spool_dir, progress=progress, admits=admits) as spool:
            duplicates.dropped += spool.dropped_medications
            groups = spool.groups(duplicates=duplicates)
            return list(evaluate_patients(definitions, groups, as_of=as_of))
    files = ndjson_files(directory)
    context = _process_context()
    lines_read = context.Value("q", 0)
    with (
        spool_directory(spool_dir) as tmp,
        ProcessPoolExecutor(
            workers, mp_context=context, initializer=_count_into, initargs=(lines_read,)
        ) as pool,
    ):
        try:
            shares = _spool_in_processes(pool, files, tmp, workers, admits)
            _wait_reporting(shares, lines_read, progress)
            spool = joined(tmp, workers, [share.result() for share in shares])
            duplicates.dropped += spool.dropped_medications
            return _evaluated_in_processes(pool, definitions, spool, as_of, duplicates)
        except BrokenProcessPool:
            raise WorkerError(
                "A worker process stopped before finishing (killed or out of memory); "
                "run again with fewer --workers."
            ) from None


def evaluate_partition(
    definitions: list[MeasureDefinition], spool: Spool, partition: int, as_of: datetime | None
) -> PartitionCases:
    """One worker's share: (patient id, cases) for each patient of its partition, by patient id.

    Also how many duplicate resources its patients' groups left out.
    """
    duplicates = Duplicates()
    cases = [
        (patient, evaluate_patient(definitions, resources, as_of=as_of))
        for patient, resources in spool.patients(partition, duplicates)
    ]
    return cases, duplicates.dropped


def _spool_in_processes(
    pool: ProcessPoolExecutor, files: list[Path], directory: Path, workers: int, admits: Admits
) -> list[Future[SpooledShare]]:
    """Start spooling the export's shares in the pool, into one partition per worker."""
    return [
        pool.submit(_spool_counted, directory, f"{number:04d}-", share, workers, admits)
        for number, share in enumerate(export_shares(files, share_count(workers)))
    ]


def share_count(workers: int) -> int:
    """How many shares to spool: two a worker, at most as many runs as one merge reads at once."""
    return min(workers * SHARES_PER_WORKER, MERGE_FAN_IN)


def _wait_reporting(
    shares: list[Future[SpooledShare]], lines_read: LineCounter, progress: Progress | None
) -> None:
    """Wait for the shares, reporting the lines read; a share's failure cancels those after it.

    The shares before a failed one still finish, so the error raised is the export's first.
    """
    reported = 0
    pending = set(shares)
    while pending:
        done, pending = wait(pending, timeout=PROGRESS_SECONDS, return_when=FIRST_EXCEPTION)
        if progress is not None and lines_read.value > reported:
            progress(lines_read.value - reported)
            reported = lines_read.value
        failed = [shares.index(share) for share in done if share.exception() is not None]
        if failed:
            for later in shares[min(failed) + 1 :]:
                later.cancel()
            return


def _evaluated_in_processes(
    pool: ProcessPoolExecutor,
    definitions: list[MeasureDefinition],
    spool: Spool,
    as_of: datetime | None,
    duplicates: Duplicates,
) -> list[MeasureCase]:
    """Evaluate each partition in the pool's processes; the cases merged in patient-id order."""
    evaluating = [
        pool.submit(evaluate_partition, definitions, spool, partition, as_of)
        for partition in range(spool.partitions)
    ]
    parts = [part.result() for part in evaluating]
    duplicates.dropped += sum(dropped for _, dropped in parts)
    merged = heapq.merge(*(cases for cases, _ in parts), key=itemgetter(0))
    return [case for _, cases in merged for case in cases]


def _count_into(counter: LineCounter) -> None:
    """In a starting worker: keep the pool's line counter for `_spool_counted`."""
    global _lines_read
    _lines_read = counter


def _spool_counted(
    directory: Path, label: str, share: Share, partitions: int, admits: Admits
) -> SpooledShare:
    """In a worker: spool one share, adding the lines read to the pool's counter as it goes."""
    return spool_share(directory, label, share, partitions, admits, progress=_add_lines_read)


def _add_lines_read(count: int) -> None:
    """In a worker: add lines read to the pool's counter."""
    if _lines_read is not None:
        with _lines_read.get_lock():
            _lines_read.value += count


def _process_context() -> multiprocessing.context.BaseContext:
    """Fork (no re-import, fast) when this process has no other threads to copy; else spawn."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")

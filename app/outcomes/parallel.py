"""Evaluate an NDJSON export's measures in several processes, with the same cases as one.

The export is spooled once, without the resources no measure can read
(`measures.value_set_gate`), split into `workers` partitions by a stable hash of the patient id.
The worker processes spool it: each takes shares of the export's bytes
(`ingest_ndjson.export_shares`) and writes sorted runs of its own. Then each worker reads its own
partition back from every run and runs `measures.evaluate_patient` on each patient. A patient's
resources all sit in one partition, so no measure sees half a patient. The workers' cases are
merged by patient id, the order one process yields them in, so every output (JSON, table,
MeasureReport, --save) is identical.
"""

from __future__ import annotations

import heapq
import multiprocessing
import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from operator import itemgetter
from pathlib import Path

from app.library.measure_definitions import MeasureDefinition
from app.outcomes.cases import MeasureCase
from app.outcomes.ingest_ndjson import (
    Admits,
    Progress,
    Spool,
    export_shares,
    joined,
    ndjson_files,
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
PatientCases = list[tuple[str, list[MeasureCase]]]


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
) -> list[MeasureCase]:
    """Every measure case of an NDJSON export, by patient id, computed by `workers` processes."""
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be 1 to {MAX_WORKERS}")
    definitions = list(definitions)
    for definition in definitions:
        evaluator_for(definition)
    admits = value_set_gate(definitions).admits
    if workers == 1:
        with spooled(directory, spool_dir=spool_dir, progress=progress, admits=admits) as spool:
            return list(evaluate_patients(definitions, spool.groups(), as_of=as_of))
    files = ndjson_files(directory)
    with (
        tempfile.TemporaryDirectory(prefix="bedside-ndjson-", dir=spool_dir) as tmp,
        ProcessPoolExecutor(workers, mp_context=_process_context()) as pool,
    ):
        try:
            spool = _spooled_in_processes(pool, files, Path(tmp), workers, progress, admits)
            return _evaluated_in_processes(pool, definitions, spool, as_of)
        except BrokenProcessPool:
            raise WorkerError(
                "A worker process stopped before finishing (killed or out of memory); "
                "run again with fewer --workers."
            ) from None


def evaluate_partition(
    definitions: list[MeasureDefinition], spool: Spool, partition: int, as_of: datetime | None
) -> PatientCases:
    """One worker's share: (patient id, cases) for each patient of its partition, by patient id."""
    return [
        (patient, evaluate_patient(definitions, resources, as_of=as_of))
        for patient, resources in spool.patients(partition)
    ]


def _spooled_in_processes(
    pool: ProcessPoolExecutor,
    files: list[Path],
    directory: Path,
    workers: int,
    progress: Progress | None,
    admits: Admits,
) -> Spool:
    """Spool the export's shares in the pool's processes, into one partition per worker."""
    shares = export_shares(files, workers * SHARES_PER_WORKER)
    spooling = [
        pool.submit(spool_share, directory, f"{number:04d}-", share, workers, admits)
        for number, share in enumerate(shares)
    ]
    if progress is not None:
        for done in as_completed(spooling):
            progress(done.result().lines)
    return joined(directory, workers, [share.result() for share in spooling])


def _evaluated_in_processes(
    pool: ProcessPoolExecutor,
    definitions: list[MeasureDefinition],
    spool: Spool,
    as_of: datetime | None,
) -> list[MeasureCase]:
    """Evaluate each partition in the pool's processes; the cases merged in patient-id order."""
    shares = [
        pool.submit(evaluate_partition, definitions, spool, partition, as_of)
        for partition in range(spool.partitions)
    ]
    merged = heapq.merge(*(share.result() for share in shares), key=itemgetter(0))
    return [case for _, cases in merged for case in cases]


def _process_context() -> multiprocessing.context.BaseContext:
    """Fork (no re-import, fast) when this process has no other threads to copy; else spawn."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")

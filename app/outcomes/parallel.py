"""Evaluate an NDJSON export's measures in several processes, with the same cases as one.

The export is spooled once (`ingest_ndjson.spooled`), without the resources no measure can read
(`measures.value_set_gate`), split into `workers` partitions by a stable hash of the patient id;
each worker process reads its own partition back from the spool and runs
`measures.evaluate_patient` on each patient. A patient's resources all sit in one partition, so
no measure sees half a patient. The workers' cases are merged by patient id, the order one
process yields them in, so every output (JSON, table, MeasureReport, --save) is identical.
"""

from __future__ import annotations

import heapq
import multiprocessing
import threading
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from operator import itemgetter
from pathlib import Path

from app.library.measure_definitions import MeasureDefinition
from app.outcomes.cases import MeasureCase
from app.outcomes.ingest_ndjson import Progress, Spool, spooled
from app.outcomes.measures import (
    evaluate_patient,
    evaluate_patients,
    evaluator_for,
    value_set_gate,
)

MAX_WORKERS = 64
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
    gate = value_set_gate(definitions)
    with spooled(
        directory,
        partitions=workers,
        spool_dir=spool_dir,
        progress=progress,
        admits=gate.admits,
    ) as spool:
        if workers == 1:
            return list(evaluate_patients(definitions, spool.groups(), as_of=as_of))
        return _in_processes(definitions, spool, as_of)


def evaluate_partition(
    definitions: list[MeasureDefinition], spool: Spool, partition: int, as_of: datetime | None
) -> PatientCases:
    """One worker's share: (patient id, cases) for each patient of its partition, by patient id."""
    return [
        (patient, evaluate_patient(definitions, resources, as_of=as_of))
        for patient, resources in spool.patients(partition)
    ]


def _in_processes(
    definitions: list[MeasureDefinition], spool: Spool, as_of: datetime | None
) -> list[MeasureCase]:
    """Run each partition in its own process and merge the cases back into patient-id order."""
    with ProcessPoolExecutor(spool.partitions, mp_context=_process_context()) as pool:
        shares = [
            pool.submit(evaluate_partition, definitions, spool, partition, as_of)
            for partition in range(spool.partitions)
        ]
        try:
            results = [share.result() for share in shares]
        except BrokenProcessPool:
            raise WorkerError(
                "A worker process stopped before finishing (killed or out of memory); "
                "run again with fewer --workers."
            ) from None
    merged = heapq.merge(*results, key=itemgetter(0))
    return [case for _, cases in merged for case in cases]


def _process_context() -> multiprocessing.context.BaseContext:
    """Fork (no re-import, fast) when this process has no other threads to copy; else spawn."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")

"""Apache Spark as a source of measure cases: the local engine's pure measure code, distributed.

The export is read as lines of bytes (split at newlines only, and parsed from their bytes as
the local engine does: a line that is not UTF-8, or longer than `ingest_ndjson.MAX_LINE_BYTES`,
is refused with its sentence); each line is keyed by its patient (`bulk.patient_id_of`) and by its
place in the export (file name, block, row), so a patient's group is rebuilt in the local
engine's order, and a resource given more than once keeps its last copy
(`ingest_ndjson.latest_copies`, counted in `Duplicates`). Resources no measure can read
(`measures.value_set_gate`) are dropped in the executors before the shuffle, as the local engine
leaves them out of its spool. The export's shared Medication resources (few, and with no
patient) are collected once and broadcast: the join by id happens in the executors with
`medications.with_medications`, as the local engine does. Each group is then evaluated in the
executors with `measures.evaluate_patient`, and the cases come back to the driver sorted by
patient id, which is the order the local engine yields them in: both engines hand the same
list to the same aggregation, rendering and storage.

pyspark is optional (`pip install 'bedside[spark]'`) and is imported only when the engine runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson

from app.library.measure_definitions import MeasureDefinition
from app.outcomes.bulk import patient_id_of
from app.outcomes.cases import MeasureCase
from app.outcomes.facts import ValueSetGate
from app.outcomes.ingest_ndjson import (
    MAX_LINE_BYTES,
    TOO_LONG,
    Duplicates,
    NdjsonError,
    is_resource,
    latest_copies,
    ndjson_files,
)
from app.outcomes.measures import evaluate_patient, evaluator_for, value_set_gate
from app.outcomes.medications import remember, with_medications

INSTALL_HINT = "The Spark engine needs pyspark: pip install 'bedside[spark]'."
APP_NAME = "bedside-outcomes"

PATIENT, MEDICATION, PROBLEM = "patient", "medication", "problem"
NOT_JSON = "is not valid JSON"
NOT_A_RESOURCE = "is not a FHIR resource"

#: Where a line sits in the export: (file name, start of its file block, row id within the read).
LineKey = tuple[str, int, int]


class SparkEngineError(Exception):
    """Spark is not installed or cannot run; the message says why in one sentence."""


def spark_cases(
    uri: str | Path,
    definitions: Iterable[MeasureDefinition],
    *,
    as_of: datetime | None = None,
    master: str | None = None,
    duplicates: Duplicates | None = None,
) -> list[MeasureCase]:
    """Evaluate every patient of an NDJSON export on Spark; the cases in the local engine's order.

    An active SparkSession (spark-submit, a notebook, a test) is used as it is; otherwise one is
    started on `master` (default: Spark's own, e.g. from spark-defaults.conf, else local[*]).
    `duplicates` counts the copies of resources left out, as the local engine counts them.
    """
    definitions = list(definitions)
    for definition in definitions:
        evaluator_for(definition)
    ndjson_paths(str(uri))  # a missing local export fails before a JVM starts
    with spark_session(master) as spark:
        return cases_on(spark, str(uri), definitions, as_of=as_of, duplicates=duplicates)


def cases_on(
    spark: Any,
    uri: str,
    definitions: list[MeasureDefinition],
    *,
    as_of: datetime | None,
    duplicates: Duplicates | None = None,
) -> list[MeasureCase]:
    """Run the pipeline on a SparkSession: key lines, join Medications, evaluate per patient."""
    from py4j.protocol import Py4JJavaError
    from pyspark import StorageLevel
    from pyspark.errors import PySparkException

    classified = None
    try:
        lines = _keyed_lines(spark, uri)
        # Kept after the first pass (memory, else the executors' disks): the export is read and
        # parsed once, not once for the Medications and again for the patients.
        classified = lines.flatMap(partial(_classify, value_set_gate(definitions))).persist(
            StorageLevel.MEMORY_AND_DISK
        )
        lookup, dropped_medications = _medications_or_problem(lines, classified)
        shared = spark.sparkContext.broadcast((definitions, lookup, as_of))
        per_patient = (
            classified.filter(lambda item: item[0] == PATIENT)
            .map(lambda item: (item[1], (item[2], item[3])))
            .groupByKey()
            .map(partial(_evaluate_group, shared))
            .collect()
        )
    except (Py4JJavaError, PySparkException) as error:
        raise SparkEngineError(
            f"Spark could not compute the measures: {_first_line(error)}"
        ) from None
    finally:
        if classified is not None:
            with suppress(Exception):  # a dead context: the error above is the one to report
                classified.unpersist()
    if duplicates is not None:
        duplicates.dropped += dropped_medications + sum(dropped for *_, dropped in per_patient)
    return [case for _, cases, _ in sorted(per_patient, key=itemgetter(0)) for case in cases]


@contextmanager
def spark_session(master: str | None) -> Iterator[Any]:
    """The active SparkSession, else a new one on `master`, stopped afterwards."""
    try:
        from pyspark.errors import PySparkException
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkEngineError(INSTALL_HINT) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    if master is None or master.startswith("local"):
        # Local executors must import Bedside: run them on this interpreter (its venv).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(APP_NAME)
    if master:
        builder = builder.master(master)
    try:
        spark = builder.getOrCreate()
    except (PySparkException, OSError) as error:
        message = f"Spark could not start (it needs Java 17 or newer): {_first_line(error)}"
        raise SparkEngineError(message) from None
    try:
        yield spark
    finally:
        spark.stop()


def ndjson_paths(uri: str) -> list[str]:
    """The files to read: a local directory's `*.ndjson` (checked here), else a glob on the URI."""
    if "://" in uri:
        return [uri.rstrip("/") + "/*.ndjson"]
    return [str(path) for path in ndjson_files(Path(uri))]


def _keyed_lines(spark: Any, uri: str) -> Any:
    """An RDD of (file name, block start, row id, line bytes) for every line of the export's files.

    Lines end at newlines only, and come as their bytes (Spark's text would replace bytes that
    are not UTF-8 with U+FFFD, and accept what the local engine refuses).
    """
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    try:
        frame = spark.read.option("lineSep", "\n").text(ndjson_paths(uri))
    except AnalysisException:
        raise NdjsonError(f"NDJSON export {uri} has no *.ndjson files") from None
    return frame.select(
        F.col("_metadata.file_name"),
        F.col("_metadata.file_block_start"),
        F.monotonically_increasing_id(),
        F.col("value").cast("binary"),
    ).rdd.map(tuple)


def _classify(gate: ValueSetGate, row: tuple[str, int, int, bytes]) -> list[tuple]:
    """Tag one line: a patient's resource, a shared Medication, a problem, or nothing needed."""
    file_name, block_start, row_id, line = row
    key: LineKey = (file_name, block_start, row_id)
    if len(line) > MAX_LINE_BYTES:
        return [(PROBLEM, TOO_LONG, key, file_name)]
    text = line.strip()
    if not text:
        return []
    try:
        resource = orjson.loads(text)
    except ValueError:
        return [(PROBLEM, NOT_JSON, key, file_name)]
    if not is_resource(resource):
        return [(PROBLEM, NOT_A_RESOURCE, key, file_name)]
    patient = patient_id_of(resource)
    if patient:
        return [(PATIENT, str(patient), key, text)] if gate.admits(resource) else []
    found: dict[str, dict] = {}
    if remember(found, resource):
        return [(MEDICATION, next(iter(found)), key, text)]
    return []


def _medications_or_problem(lines: Any, classified: Any) -> tuple[dict[str, dict], int]:
    """The export's Medications by id (the last one in file order wins, as locally); the others.

    Raises NdjsonError naming the file and line of the first unreadable line, like the local engine.
    """
    summaries = classified.filter(lambda item: item[0] != PATIENT).mapPartitions(_side_summary)
    latest: dict[str, tuple[LineKey, bytes]] = {}
    problem: tuple | None = None
    medication_lines = 0
    for medications, first_problem, read in summaries.collect():
        medication_lines += read
        for medication_id, (key, text) in medications.items():
            if medication_id not in latest or key > latest[medication_id][0]:
                latest[medication_id] = (key, text)
        if first_problem and (problem is None or first_problem[2] < problem[2]):
            problem = first_problem
    if problem is not None:
        _, what, key, file_name = problem
        number = _line_number(lines, key)
        raise NdjsonError(f"{file_name} line {number} {what}")
    lookup = {medication_id: orjson.loads(text) for medication_id, (_, text) in latest.items()}
    return lookup, medication_lines - len(lookup)


def _side_summary(items: Iterable[tuple]) -> Iterator[tuple[dict, tuple | None, int]]:
    """One partition's Medications (latest by place), its first problem line, Medications read."""
    medications: dict[str, tuple[LineKey, bytes]] = {}
    problem: tuple | None = None
    read = 0
    for item in items:
        kind, name, key, payload = item
        read += kind == MEDICATION
        if kind == MEDICATION and (name not in medications or key > medications[name][0]):
            medications[name] = (key, payload)
        elif kind == PROBLEM and (problem is None or key < problem[2]):
            problem = item
    yield medications, problem, read


def _line_number(lines: Any, key: LineKey) -> int:
    """The 1-based line number of a line in its file (counting blank lines, as an editor does)."""
    return lines.filter(lambda row: row[0] == key[0] and tuple(row[:3]) < key).count() + 1


def _evaluate_group(shared: Any, keyed: tuple[str, Iterable[tuple[LineKey, bytes]]]) -> tuple:
    """In an executor: one patient's group in file order, each resource once, evaluated.

    Returns the patient, the cases and how many copies of resources were left out.
    """
    definitions, lookup, as_of = shared.value
    patient, lines = keyed
    group, dropped = latest_copies(
        [orjson.loads(text) for _, text in sorted(lines, key=itemgetter(0))]
    )
    cases = evaluate_patient(definitions, with_medications(group, lookup), as_of=as_of)
    return patient, cases, dropped


def _first_line(error: BaseException) -> str:
    """An exception's first non-empty line (Java stack traces stay out of the message)."""
    cause = getattr(error, "java_exception", None) or error
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__

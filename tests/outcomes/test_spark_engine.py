"""`outcomes compute --engine spark`: real Spark (local mode) gives the local engine's results.

One SparkSession serves the module (the JVM start dominates); files are split into small blocks so
every export is read by several tasks and each patient's group is rebuilt across them. Without
Java or pyspark these tests skip, and fail under CI (which installs both).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.devtools.synthetic import codes, fhir
from app.devtools.synthetic.dataset import expected_summary
from app.devtools.synthetic.replicate import replicate_export
from app.devtools.synthetic.routine import add_routine_data, routine_observation
from app.outcomes import ingest_ndjson, parallel
from app.outcomes.measures import evaluate_patients, value_set_gate
from app.outcomes.outcomes_commands import compute, render
from app.outcomes.spark_engine import INSTALL_HINT, PATIENT, PROBLEM, _classify, spark_cases
from app.settings import REPO_ROOT
from tests.outcomes.charts import URI, Chart, at, measures
from tests.outcomes.test_synthetic import dataset
from tests.outcomes_io.helpers import write_ndjson

AS_OF = ["--as-of", "2026-11-01"]
START = at("2026-03-02T10:00")
COPIES = 3


def spark_or_skip() -> None:
    """Skip without Java or pyspark; under CI (which installs both) fail instead."""
    problem = None
    if importlib.util.find_spec("pyspark") is None:
        problem = f"pyspark is not installed ({INSTALL_HINT})"
    elif shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        problem = "Java is not installed (apt-get install openjdk-17-jre-headless)"
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"Spark engine tests: {problem}", pytrace=False)
    pytest.skip(problem)


@pytest.fixture(scope="module")
def spark():
    """One local SparkSession for the module: 2 cores, small file blocks, no UI."""
    spark_or_skip()
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("bedside-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.files.maxPartitionBytes", "256k")
        .config("spark.sql.files.openCostInBytes", "64k")
        .config("spark.default.parallelism", "4")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """The synthetic dataset's Bulk Data export."""
    return write_ndjson(tmp_path_factory.mktemp("synthetic"))


@pytest.fixture(scope="module")
def replicated(tmp_path_factory) -> Path:
    """The export three times over, other patient ids per copy, medicines as shared Medications."""
    root = tmp_path_factory.mktemp("replicated")
    replicate_export(write_ndjson(root / "export"), COPIES, root / "x3")
    return root / "x3"


@cache
def local_cases(export: Path) -> list:
    """The local engine's cases for an export of the synthetic dataset."""
    return local_engine_cases(export, measures().values(), dataset().as_of)


def local_engine_cases(export: Path, definitions, as_of: datetime) -> list:
    """The local engine's cases for an export."""
    groups = ingest_ndjson.patient_groups(export)
    return list(evaluate_patients(definitions, groups, as_of=as_of))


def write_lines(path: Path, resources: list[dict]) -> None:
    """Write resources as one NDJSON file."""
    path.write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")


def rendered(cases: list) -> dict[str, object]:
    """The JSON results and the MeasureReport bundle, as the command prints them."""
    start = min(c.period_start for c in cases if c.period_start)
    directions = {m.id: m.direction for m in measures().values()}
    return {
        "json": json.loads(render(cases, "json", start, dataset().as_of, directions)),
        "measurereport": reports_apart_from_creation(
            render(cases, "measurereport", start, dataset().as_of, directions)
        ),
    }


def reports_apart_from_creation(text: str) -> dict:
    """The MeasureReport bundle without the moments it was written (they differ between runs)."""
    bundle = json.loads(text)
    assert bundle.pop("timestamp")
    for entry in bundle["entry"]:
        assert entry["resource"].pop("date")
    return bundle


def test_spark_gives_the_local_cases_and_outputs_on_the_synthetic_export(spark, synthetic):
    """Every case (patient, encounter, clinician, flags, reasons) in the same order; same output."""
    cases = spark_cases(synthetic, measures().values(), as_of=dataset().as_of)
    assert cases == local_cases(synthetic)
    assert rendered(cases) == rendered(local_cases(synthetic))
    results = rendered(cases)["json"]
    for measure_id, expected in expected_summary(dataset()).items():
        overall = results[measure_id]["overall"]
        assert {key: overall[key] for key in expected["overall"]} == expected["overall"]


def test_spark_gives_the_local_cases_on_a_replicated_export_with_shared_medications(
    spark, replicated, synthetic
):
    """Three copies, medicines joined by id in the executors: same cases, three times the counts."""
    cases = spark_cases(replicated, measures().values(), as_of=dataset().as_of)
    assert cases == local_cases(replicated)
    assert rendered(cases) == rendered(local_cases(replicated))
    patients = {c.patient_key for c in cases}
    assert len(patients) == COPIES * len({c.patient_key for c in local_cases(synthetic)})
    results = rendered(cases)["json"]
    for measure_id, expected in expected_summary(dataset()).items():
        overall = results[measure_id]["overall"]
        assert {key: overall[key] for key in expected["overall"]} == {
            key: COPIES * value for key, value in expected["overall"].items()
        }


def test_spark_on_an_export_with_routine_results_gives_the_plain_exports_cases(
    spark, synthetic, tmp_path
):
    """Vital signs and routine labs no measure reads change no case (none shuffled: next test)."""
    routine = tmp_path / "routine"
    shutil.copytree(synthetic, routine)
    assert add_routine_data(routine, 3) > 0
    cases = spark_cases(routine, measures().values(), as_of=dataset().as_of)
    assert cases == local_cases(synthetic)


def test_an_executor_tags_a_routine_result_as_nothing_needed_and_a_lactate_as_the_patients():
    """The gate the executors apply: the same one the local engine's spool applies."""
    gate = value_set_gate(measures().values())
    routine = json.dumps(routine_observation("p1", 0))
    lactate = json.dumps(fhir.observation("o2", "p1", codes.LACTATE_PLASMA, effective=START))
    assert _classify(gate, ("O.ndjson", 0, 1, routine)) == []
    tagged = _classify(gate, ("O.ndjson", 0, 2, lactate))
    assert [(kind, patient) for kind, patient, *_ in tagged] == [(PATIENT, "p1")]


def test_each_line_of_the_export_is_read_and_tagged_once(spark, synthetic, monkeypatch):
    """The Medications pass and the patients' pass share one reading (kept between them)."""
    from app.outcomes import spark_engine

    tagged = spark.sparkContext.accumulator(0)
    classify = spark_engine._classify

    def counted(gate, row):  # a closure: the executors get it by value, with the accumulator
        tagged.add(1)
        return classify(gate, row)

    monkeypatch.setattr(spark_engine, "_classify", counted)
    cases = spark_cases(synthetic, measures().values(), as_of=dataset().as_of)
    assert cases == local_cases(synthetic)
    assert tagged.value == ingest_ndjson.count_lines(synthetic)


def test_a_patient_spread_over_files_keeps_the_export_order(spark, tmp_path):
    """Spark reads bigger files first; each group is still put back in file-name and line order."""
    chart = Chart(patient_id="p1")
    first = chart.visit(START)
    chart.condition(codes.URI[0], first, onset=START.date().isoformat())
    second = chart.visit(START + timedelta(days=10))
    chart.condition(codes.URI[0], second, onset=(START + timedelta(days=10)).date().isoformat())
    padding = [fhir.practitioner(f"C{number:03d}", number) for number in range(200)]
    write_lines(tmp_path / "A.ndjson", chart.resources[:3])
    write_lines(tmp_path / "B.ndjson", [*chart.resources[3:], *padding])
    cases = spark_cases(tmp_path, [measures()[URI]], as_of=START + timedelta(days=30))
    assert [case.encounter_id for case in cases] == [first, second]
    assert cases == local_engine_cases(tmp_path, [measures()[URI]], START + timedelta(days=30))


def test_a_uri_is_read_through_spark_as_a_cluster_would_read_it(spark, synthetic, tmp_path):
    """A `file://` URI takes the cluster path (a glob Spark lists); a missing one: one sentence."""
    cases = spark_cases(synthetic.as_uri(), measures().values(), as_of=dataset().as_of)
    assert cases == local_cases(synthetic)
    missing = (tmp_path / "missing").as_uri()
    with pytest.raises(ingest_ndjson.NdjsonError) as raised:
        spark_cases(missing, measures().values(), as_of=dataset().as_of)
    assert str(raised.value) == f"NDJSON export {missing} has no *.ndjson files"


def test_the_command_on_spark_prints_and_saves_what_the_local_engine_does(
    spark, synthetic, tmp_path
):
    """`--engine spark --save`: the same MeasureReports and the same stored-cases summary."""
    runs = {}
    for engine in ("local", "spark"):
        database = tmp_path / f"{engine}.db"
        args = ["--ndjson", str(synthetic), *AS_OF, "--format", "measurereport"]
        args += ["--engine", engine, "--save", "--database", str(database)]
        runs[engine] = CliRunner().invoke(compute, args, catch_exceptions=False)
        assert runs[engine].exit_code == 0, runs[engine].output
    spark_reports, local_reports = (runs[e].stdout for e in ("spark", "local"))
    assert reports_apart_from_creation(spark_reports) == reports_apart_from_creation(local_reports)
    assert runs["spark"].stderr == runs["local"].stderr
    assert "Saved " in runs["spark"].stderr


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        ('{"resourceType": "Encounter", \n', "is not valid JSON"),
        ('{"resourceType": "Encounter", "length": NaN}\n', "is not valid JSON"),
        (
            '{"resourceType": ["Observation"], "subject": {"reference": "Patient/p1"}}\n',
            "is not a FHIR resource",
        ),
    ],
)
def test_an_unreadable_line_gets_the_local_engines_one_sentence_error(
    spark, tmp_path, broken, problem
):
    """A broken line is named by file and line number, as the local engine (1 or 2 workers) does."""
    export = write_ndjson(tmp_path / "export")
    lines = (export / "Encounter.ndjson").read_text().splitlines(keepends=True)
    lines[2:3] = ["\n", broken]
    (export / "Encounter.ndjson").write_text("".join(lines))
    outputs = {}
    for engine, workers in (("local", "1"), ("local", "2"), ("spark", "1")):
        args = ["--ndjson", str(export), *AS_OF, "--engine", engine]
        args += ["--workers", workers] if engine == "local" else []
        result = CliRunner().invoke(compute, args)
        assert result.exit_code == 1, result.output
        outputs[engine, workers] = result.output
    assert set(outputs.values()) == {f"Error: Encounter.ndjson line 4 {problem}\n"}


def not_utf8(export: Path) -> None:
    """Put a line that is not UTF-8 (a lone 0xFF byte in a string) fourth in Encounter.ndjson."""
    lines = (export / "Encounter.ndjson").read_bytes().splitlines(keepends=True)
    lines[3:4] = [b'{"resourceType": "Encounter", "id": "\xff"}\n']
    (export / "Encounter.ndjson").write_bytes(b"".join(lines))


def too_long(export: Path) -> None:
    """Put a line one byte longer than allowed fourth in Encounter.ndjson."""
    lines = (export / "Encounter.ndjson").read_bytes().splitlines(keepends=True)
    lines[3:4] = [b"x" * (ingest_ndjson.MAX_LINE_BYTES + 1) + b"\n"]
    (export / "Encounter.ndjson").write_bytes(b"".join(lines))


def test_a_line_spark_could_decode_is_refused_as_the_local_engine_refuses_it(spark, tmp_path):
    """Bytes that are not UTF-8: every engine gives the one sentence (Spark would decode them)."""
    export = write_ndjson(tmp_path / "export")
    not_utf8(export)
    outputs = set()
    for engine, workers in (("local", "1"), ("local", "2"), ("spark", "1")):
        args = ["--ndjson", str(export), *AS_OF, "--engine", engine]
        args += ["--workers", workers] if engine == "local" else []
        result = CliRunner().invoke(compute, args)
        assert result.exit_code == 1, result.output
        outputs.add(result.output)
    assert outputs == {"Error: Encounter.ndjson line 4 is not valid JSON\n"}


def test_a_line_over_the_limit_is_refused_by_both_local_worker_counts_and_by_sparks_tagging(
    tmp_path,
):
    """One sentence locally; Spark's executors tag such a line as the same problem. (A real
    Spark run over a 64 MiB line needs a JVM heap larger than a test machine's default.)"""
    export = write_ndjson(tmp_path / "export")
    too_long(export)
    for workers in ("1", "2"):
        result = CliRunner().invoke(
            compute, ["--ndjson", str(export), *AS_OF, "--workers", workers]
        )
        assert result.output == "Error: Encounter.ndjson line 4 is longer than 64 MiB\n"
    line = b"x" * (ingest_ndjson.MAX_LINE_BYTES + 1)
    tagged = _classify(value_set_gate(measures().values()), ("Encounter.ndjson", 0, 3, line))
    assert tagged == [
        (PROBLEM, ingest_ndjson.TOO_LONG, ("Encounter.ndjson", 0, 3), "Encounter.ndjson")
    ]


def test_spark_reads_a_resource_given_twice_once_as_the_local_engine_does(
    spark, replicated, tmp_path
):
    """Copies in an earlier and a later file: the same last copies kept and the same count."""
    export = tmp_path / "copies"
    shutil.copytree(replicated, export)
    encounters = (replicated / "Encounter.ndjson").read_text().splitlines(keepends=True)
    (export / "Encounter-0.ndjson").write_text("".join(encounters))
    medications = (replicated / "Medication.ndjson").read_text()
    (export / "Medication-0.ndjson").write_text(medications)
    later = [json.loads(line) | {"participant": []} for line in encounters[::5]]
    write_lines(export / "zz-later.ndjson", later)
    counted = {}
    for engine, workers in (("spark", 0), ("local", 1), ("local", 3)):
        duplicates = ingest_ndjson.Duplicates()
        if engine == "spark":
            cases = spark_cases(
                export, measures().values(), as_of=dataset().as_of, duplicates=duplicates
            )
        else:
            cases = parallel.evaluate_export(
                measures().values(),
                export,
                as_of=dataset().as_of,
                workers=workers,
                duplicates=duplicates,
            )
        counted[engine, workers] = (cases, duplicates.dropped)
    (spark_result, *local_results) = counted.values()
    assert all(result == spark_result for result in local_results)
    cases, dropped = spark_result
    assert dropped == len(encounters) + len(later) + medications.count("\n")
    unattributed = {c.encounter_id for c in cases if c.clinician is None}
    assert unattributed == {resource["id"] for resource in later} & {c.encounter_id for c in cases}


def test_a_missing_export_is_reported_before_spark_starts(tmp_path):
    """No JVM is needed to say the directory does not exist."""
    args = ["--ndjson", str(tmp_path / "missing"), "--engine", "spark"]
    result = CliRunner().invoke(compute, args)
    assert result.exit_code == 1
    assert result.output == f"Error: NDJSON directory {tmp_path / 'missing'} does not exist\n"


def test_without_pyspark_the_engine_says_how_to_install_it(tmp_path, monkeypatch):
    """One sentence naming the extra to install, no traceback."""
    for name in ("pyspark", "pyspark.sql", "pyspark.errors"):
        monkeypatch.setitem(sys.modules, name, None)
    export = write_ndjson(tmp_path / "export")
    result = CliRunner().invoke(compute, ["--ndjson", str(export), "--engine", "spark"])
    assert result.exit_code == 1
    assert result.output == f"Error: {INSTALL_HINT}\n"
    assert "pip install 'bedside[spark]'" in INSTALL_HINT


def test_without_java_spark_cannot_start_and_the_command_says_so(synthetic):
    """A broken Java installation ends in one line naming what Spark needs, no traceback."""
    spark_or_skip()
    command = [sys.executable, "-c", "from app.cli import main; main()", "outcomes", "compute"]
    command += ["--engine", "spark", "--ndjson", str(synthetic)]
    environment = os.environ | {"JAVA_HOME": "/nonexistent-java"}
    done = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 1 and done.stdout == ""
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: Spark could not start (it needs Java 17 or newer): ")
    assert "Traceback" not in done.stderr


def test_spark_options_that_do_not_fit_are_usage_errors(tmp_path):
    """Spark reads NDJSON only, and --master needs --engine spark."""
    runner = CliRunner()
    fhir = runner.invoke(compute, ["--fhir-server", "https://x.example", "--engine", "spark"])
    assert fhir.exit_code == 2 and "--engine spark reads --ndjson exports" in fhir.output
    master = runner.invoke(compute, ["--ndjson", str(tmp_path), "--master", "local[2]"])
    assert master.exit_code == 2 and "--master applies only to --engine spark" in master.output


def test_importing_the_app_does_not_import_pyspark():
    """Spark stays optional: the app and the engine module load without touching pyspark."""
    code = (
        "import sys, app.cli, app.outcomes.spark_engine; "
        "sys.exit('pyspark' in sys.modules or 'py4j' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=False, timeout=120)
    assert done.returncode == 0

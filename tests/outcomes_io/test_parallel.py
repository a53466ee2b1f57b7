"""`--workers N`: the export's patients split over N processes give exactly one process's cases."""

from __future__ import annotations

import json
import multiprocessing
import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from app.devtools.synthetic.replicate import replicate_export
from app.outcomes import ingest_ndjson, parallel
from app.outcomes.measures import EVALUATORS
from app.outcomes.outcomes_commands import compute
from tests.outcomes.charts import measures
from tests.outcomes.test_synthetic import dataset
from tests.outcomes_io.helpers import expected_overall, overall_counts, write_ndjson

COPIES = 3
SHARES = parallel.SHARES_PER_WORKER


@pytest.fixture(scope="module")
def replicated(tmp_path_factory) -> Path:
    """The synthetic export with its patients copied three times under new ids, medicines shared."""
    root = tmp_path_factory.mktemp("parallel")
    replicate_export(write_ndjson(root / "export"), COPIES, root / "x3")
    return root / "x3"


def test_the_replicated_export_counts_exactly_three_times_the_expected_answers(replicated):
    """Each copy is new patients with the same charts, so every count triples (exactness)."""
    tripled = {
        measure: {name: COPIES * count for name, count in counts.items()}
        for measure, counts in expected_overall().items()
    }
    assert overall_counts(ingest_ndjson.patient_groups(replicated)) == tripled


def test_workers_give_the_cases_of_one_process_in_the_same_order(replicated):
    """Every case (all fields, reasons and elements), in patient-id order, from 1 and 3 workers."""
    definitions = measures().values()
    one = parallel.evaluate_export(definitions, replicated, as_of=dataset().as_of)
    three = parallel.evaluate_export(definitions, replicated, as_of=dataset().as_of, workers=3)
    assert len(one) > 2000
    assert three == one


def test_every_number_of_every_output_is_the_same_with_workers(replicated):
    """JSON, table and MeasureReport outputs of `compute --workers 2` equal those of one worker."""
    for fmt in ("json", "table", "measurereport"):
        common = ["--ndjson", str(replicated), "--as-of", "2026-11-01", "--format", fmt]
        one, two = run(*common), run(*common, "--workers", "2")
        assert one.exit_code == 0 and two.exit_code == 0, one.output + two.output
        assert without_creation_time(two.output) == without_creation_time(one.output)
    assert json.loads(two.output)["resourceType"] == "Bundle"


def test_each_patient_lands_in_exactly_one_partition_whatever_the_process(tmp_path):
    """The partition hash is stable (not Python's salted hash) and every patient is read once."""
    assert [ingest_ndjson.partition_of(p, 4) for p in ("p1", "p2", "p3", "abc")] == [3, 1, 3, 2]
    with ingest_ndjson.spooled(write_ndjson(tmp_path), partitions=4) as spool:
        shares = [[patient for patient, _ in spool.patients(part)] for part in range(4)]
    everyone = [patient for share in shares for patient in share]
    assert len(everyone) == len(set(everyone)) == len(dataset().patients)
    assert all(shares)


def test_workers_refuse_a_fhir_server_and_a_count_out_of_range(tmp_path):
    """--workers is for NDJSON exports, 1 to 64: anything else is a usage error, not a crash."""
    refused = run("--fhir-server", "https://ehr.example/fhir", "--workers", "2")
    assert (
        refused.exit_code == 2
        and "--workers applies to the local engine on an --ndjson export" in refused.output
    )
    for count in ("0", "65", "many"):
        wrong = run("--ndjson", str(tmp_path), "--workers", count)
        assert wrong.exit_code == 2 and "--workers" in wrong.output


def test_a_worker_that_dies_is_one_readable_error(tmp_path, monkeypatch):
    """A worker killed mid-way (here it exits at its first patient) is a sentence, not a hang."""
    # Forked workers inherit the dying evaluator; the suite's other threads would make it spawn.
    monkeypatch.setattr(parallel, "_process_context", lambda: multiprocessing.get_context("fork"))
    monkeypatch.setitem(EVALUATORS, "hfref-therapy", lambda *arguments: os._exit(1))
    with pytest.raises(parallel.WorkerError, match="run again with fewer --workers"):
        parallel.evaluate_export(measures().values(), write_ndjson(tmp_path), workers=2)


def without_creation_time(output: str) -> str:
    """The output without the MeasureReports' creation instants (the clock, not the data)."""
    if not output.startswith("{"):
        return output
    document = json.loads(output)
    if document.get("resourceType") == "Bundle":
        document.pop("timestamp")
        for entry in document["entry"]:
            entry["resource"].pop("date")
    return json.dumps(document)


def run(*args: str):
    """Invoke compute and return the result."""
    return CliRunner().invoke(compute, list(args), catch_exceptions=False)


@given(
    st.lists(st.sampled_from(["resource", "", "  "]), max_size=30),
    st.integers(min_value=1, max_value=12),
)
def test_the_shares_of_a_file_read_every_line_once_in_order_however_it_is_cut(lines, count):
    """Cut anywhere (mid-line, at a newline, past the end): the shares yield the file's lines."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "Basic.ndjson"
        path.write_text("".join(f"{line}\n" for line in numbered(lines)))
        whole = [line for line, _ in ingest_ndjson.parsed_lines(path)]
        shares = ingest_ndjson.export_shares([path], count)
        read = [
            line
            for share in shares
            for file, start, end in share
            for line, _ in ingest_ndjson.parsed_lines(file, start, end)
        ]
    assert len(shares) == count
    assert read == whole
    assert len(whole) == lines.count("resource")


def numbered(lines: list[str]) -> list[str]:
    """Each resource line made unique by its id; blank lines kept as they are."""
    return [
        f'{{"resourceType":"Basic","id":"r{number}"}}' if line == "resource" else line
        for number, line in enumerate(lines)
    ]


def test_spooling_in_shares_gives_each_patient_the_lines_of_one_pass_in_file_order(tmp_path):
    """Shares cut files mid-way; joined, each partition's patients match the one-pass spool."""
    export = write_ndjson(tmp_path / "export")
    shares = ingest_ndjson.export_shares(ingest_ndjson.ndjson_files(export), 7)
    assert any(start > 0 for share in shares for _, start, _ in share)  # a file cut mid-way
    with ingest_ndjson.spooled(export, partitions=3) as one_pass:
        expected = [list(one_pass.patients(part)) for part in range(3)]
        spooled = [
            ingest_ndjson.spool_share(tmp_path, f"{number}-", share, 3, None)
            for number, share in enumerate(shares)
        ]
        joined = ingest_ndjson.joined(tmp_path, 3, spooled)
        assert [list(joined.patients(part)) for part in range(3)] == expected
        assert joined.medications == one_pass.medications
    assert sum(share.lines for share in spooled) == ingest_ndjson.count_lines(export)


def test_a_bad_line_deep_in_a_file_is_named_by_its_line_number_with_workers(tmp_path):
    """The share that meets it, cut mid-file, counts the lines before it: one process's sentence."""
    export = write_ndjson(tmp_path / "export")
    conditions = export / "Condition.ndjson"
    lines = conditions.read_text().splitlines(keepends=True)
    bad = len(lines) - 3  # 0-based
    lines.insert(bad, "{not json\n")
    conditions.write_text("".join(lines))
    offset = sum(len(line.encode()) for line in lines[:bad])
    shares = ingest_ndjson.export_shares(ingest_ndjson.ndjson_files(export), 2 * SHARES)
    (start,) = [s for share in shares for f, s, e in share if f == conditions and s <= offset < e]
    assert start > 0  # the line is read by a share that starts inside the file
    messages = []
    for workers in (1, 2):
        with pytest.raises(ingest_ndjson.NdjsonError) as refused:
            parallel.evaluate_export(measures().values(), export, workers=workers)
        messages.append(str(refused.value))
    assert messages == [f"Condition.ndjson line {bad + 1} is not valid JSON"] * 2

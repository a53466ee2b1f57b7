"""`--workers N`: the export's patients split over N processes give exactly one process's cases."""

from __future__ import annotations

import itertools
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


file_lines = st.lists(st.sampled_from(["resource", "", "  "]), max_size=12)


@given(
    st.lists(file_lines, min_size=1, max_size=3),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
    st.integers(min_value=1, max_value=12),
)
def test_the_shares_of_an_export_read_every_line_once_in_order_however_it_is_cut(
    files, ending, final_newline, count
):
    """Cut anywhere (mid-line, at a newline, past the end, across files, CRLF or not, with or
    without a last newline): the shares yield the export's lines, each once, in order."""
    with tempfile.TemporaryDirectory() as directory:
        paths = []
        for number, lines in enumerate(files):
            path = Path(directory) / f"Basic{number}.ndjson"
            text = ending.join(numbered(lines, prefix=f"f{number}-"))
            path.write_bytes((text + (ending if final_newline and lines else "")).encode())
            paths.append(path)
        whole = [line for path in paths for line, _ in ingest_ndjson.parsed_lines(path)]
        shares = ingest_ndjson.export_shares(paths, count)
        read = [
            line
            for share in shares
            for file, start, end in share
            for line, _ in ingest_ndjson.parsed_lines(file, start, end)
        ]
    assert len(shares) == count
    assert read == whole
    assert len(whole) == sum(lines.count("resource") for lines in files)


def numbered(lines: list[str], prefix: str = "") -> list[str]:
    """Each resource line made unique by its id; blank lines kept as they are."""
    return [
        f'{{"resourceType":"Basic","id":"{prefix}r{number}"}}' if line == "resource" else line
        for number, line in enumerate(lines)
    ]


def test_the_last_medication_of_an_id_in_export_order_wins_across_shares(tmp_path):
    """A Medication given twice keeps its later version, whichever share read which."""
    versions = [
        {"resourceType": "Medication", "id": "m1", "code": {"text": f"version {n}"}}
        for n in range(40)
    ]
    (tmp_path / "Medication.ndjson").write_text("".join(json.dumps(v) + "\n" for v in versions))
    files = ingest_ndjson.ndjson_files(tmp_path)
    for count in (1, 2, 7):
        spooled = [
            ingest_ndjson.spool_share(tmp_path, f"{number}-", share, 2, None)
            for number, share in enumerate(ingest_ndjson.export_shares(files, count))
        ]
        assert ingest_ndjson.joined(tmp_path, 2, spooled).medications == {"m1": versions[-1]}


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
    files = ingest_ndjson.ndjson_files(export)
    shares = ingest_ndjson.export_shares(files, parallel.share_count(2))
    (start,) = [s for share in shares for f, s, e in share if f == conditions and s <= offset < e]
    assert start > 0  # the line is read by a share that starts inside the file
    messages = []
    for workers in (1, 2):
        with pytest.raises(ingest_ndjson.NdjsonError) as refused:
            parallel.evaluate_export(measures().values(), export, workers=workers)
        messages.append(str(refused.value))
    assert messages == [f"Condition.ndjson line {bad + 1} is not valid JSON"] * 2


def test_workers_report_every_line_they_read_as_progress(replicated):
    """The bar's total: the workers' shared counter adds up to every line of the export."""
    seen: list[int] = []
    parallel.evaluate_export(measures().values(), replicated, workers=2, progress=seen.append)
    assert sum(seen) == ingest_ndjson.count_lines(replicated)
    assert all(step > 0 for step in seen)


def test_with_progress_the_first_bad_line_of_the_export_is_named_not_the_first_found(tmp_path):
    """A bad line late in share 0 and one at the start of share 1 (found first): share 0's wins."""
    path = tmp_path / "Basic.ndjson"
    path.write_text("".join(f"{line}\n" for line in numbered(["resource"] * 20_000)))
    first_share = ingest_ndjson.export_shares([path], parallel.share_count(2))[0]
    [(_, _, cut)] = first_share  # where the second share starts
    lines = path.read_bytes().splitlines(keepends=True)
    starts = list(itertools.accumulate((len(line) for line in lines), initial=0))
    late_in_first = max(n for n, start in enumerate(starts[:-1]) if start < cut)
    for number in (late_in_first, late_in_first + 1):  # the same length: the cut stays put
        lines[number] = b"{" + b" " * (len(lines[number]) - 2) + b"\n"
    path.write_bytes(b"".join(lines))
    for progress in (None, [].append):
        with pytest.raises(ingest_ndjson.NdjsonError) as refused:
            parallel.evaluate_export(measures().values(), tmp_path, workers=2, progress=progress)
        assert str(refused.value) == f"Basic.ndjson line {late_in_first + 1} is not valid JSON"


def test_no_worker_count_spools_more_runs_than_one_merge_reads_at_once():
    """Two shares a worker, but never more shares (each one run or more) than the merge fan-in."""
    assert parallel.share_count(2) == 2 * parallel.SHARES_PER_WORKER
    counts = [parallel.share_count(workers) for workers in range(1, parallel.MAX_WORKERS + 1)]
    assert max(counts) == ingest_ndjson.MERGE_FAN_IN

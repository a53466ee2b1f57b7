"""NDJSON streaming and FHIR search ingest give exactly the generator's expected answers."""

from __future__ import annotations

import json

import pytest

from app.devtools.fhir_server import FixtureFhirServer
from app.outcomes import ingest_ndjson
from app.outcomes.ingest_fhir import FhirIngestError, FhirSource
from tests.outcomes.test_synthetic import dataset
from tests.outcomes_io.helpers import (
    TOKEN,
    expected_overall,
    overall_counts,
    write_bundles,
    write_ndjson,
)


def test_ndjson_stream_gives_expected_counts(tmp_path):
    """Streaming the export through the on-disk spool gives the exact expected counts."""
    export = write_ndjson(tmp_path / "export")
    seen = []
    groups = ingest_ndjson.patient_groups(export, spool_dir=tmp_path, progress=seen.append)
    assert overall_counts(groups) == expected_overall()
    assert sum(seen) == ingest_ndjson.count_lines(export)
    assert list(tmp_path.glob("bedside-ndjson-*")) == []


def test_ndjson_groups_are_one_per_patient(tmp_path):
    """Every patient comes out once, with its own resources only."""
    groups = list(ingest_ndjson.patient_groups(write_ndjson(tmp_path)))
    assert len(groups) == len(dataset().patients)
    assert sum(map(len, groups)) == sum(map(len, dataset().patients))


def test_ndjson_errors_name_file_and_line(tmp_path):
    """A broken line or a missing directory is a readable one-line error."""
    (tmp_path / "Encounter.ndjson").write_text('{"resourceType": "Encounter"}\nnot json\n')
    with pytest.raises(ingest_ndjson.NdjsonError, match=r"Encounter\.ndjson line 2"):
        list(ingest_ndjson.patient_groups(tmp_path))
    with pytest.raises(ingest_ndjson.NdjsonError, match="does not exist"):
        list(ingest_ndjson.patient_groups(tmp_path / "missing"))


def test_fhir_search_gives_expected_counts(tmp_path):
    """Per-patient searches with a token against a loopback server give the expected counts."""
    progress = []
    with (
        FixtureFhirServer(write_bundles(tmp_path), token=TOKEN) as server,
        FhirSource(server.base_url, TOKEN) as source,
    ):
        groups = source.patient_groups(lambda done, total: progress.append((done, total)))
        assert overall_counts(groups) == expected_overall()
        assert source.fallback_types == set()  # every type searched by patient
    assert progress[-1] == (len(dataset().patients), len(dataset().patients))
    assert all(valid for _, _, valid in server.requests_seen)
    assert any("_getpagesoffset" in path for _, path, _ in server.requests_seen)


def test_fhir_refuses_bad_token_and_plain_http(tmp_path):
    """A wrong token and a non-loopback http URL are one-line errors without the token."""
    with (
        FixtureFhirServer(write_bundles(tmp_path), token=TOKEN) as server,
        FhirSource(server.base_url, "wrong-secret") as source,
        pytest.raises(FhirIngestError, match="refused the token") as caught,
    ):
        list(source.patient_groups())
    assert "wrong-secret" not in str(caught.value)
    with pytest.raises(FhirIngestError, match="https"):
        FhirSource("http://fhir.example.org/r4")


def test_ndjson_keeps_only_the_types_the_measures_read(tmp_path):
    """A patient's resources of other types (here an Immunization) never reach the groups."""
    export = write_ndjson(tmp_path)
    immunization = {
        "resourceType": "Immunization",
        "id": "i1",
        "patient": {"reference": "Patient/pat-00001"},
    }
    (export / "Immunization.ndjson").write_text(json.dumps(immunization) + "\n")
    groups = list(ingest_ndjson.patient_groups(export))
    assert sum(map(len, groups)) == sum(map(len, dataset().patients))
    assert not any(r["resourceType"] == "Immunization" for group in groups for r in group)


def test_ndjson_that_is_not_utf8_is_a_readable_error(tmp_path):
    """Bytes that are not UTF-8 name the file and line instead of raising a decoding error."""
    (tmp_path / "Patient.ndjson").write_bytes(b'{"resourceType": "Patient", "id": "\xff"}\n')
    with pytest.raises(ingest_ndjson.NdjsonError, match=r"Patient\.ndjson line 1 is not valid"):
        list(ingest_ndjson.patient_groups(tmp_path))


def test_an_export_larger_than_a_chunk_spills_sorted_runs_and_reads_back_the_same(
    tmp_path, monkeypatch
):
    """Chunks written as sorted runs and merged give each patient's resources in file order."""
    export = write_ndjson(tmp_path / "export")
    with ingest_ndjson.spooled(export) as spool:
        assert spool.runs == 0 and spool.held  # the synthetic export fits in one chunk
        in_memory = list(spool.patients())
    monkeypatch.setattr(ingest_ndjson, "CHUNK_BYTES", 50_000)
    with ingest_ndjson.spooled(export, spool_dir=tmp_path) as spool:
        assert spool.runs > 5 and not spool.held
        assert list(spool.patients()) == in_memory
    with ingest_ndjson.spooled(export, partitions=3) as spool:
        shares = [list(spool.patients(part)) for part in range(3)]
    assert sorted(patient for share in shares for patient in share) == in_memory
    assert list(tmp_path.glob("bedside-ndjson-*")) == []


def test_many_runs_merge_in_passes_with_few_files_open(tmp_path, monkeypatch):
    """Runs beyond the fan-in merge in passes: same groups and order, never too many files open."""
    export = write_ndjson(tmp_path / "export")
    with ingest_ndjson.spooled(export) as spool:
        in_memory = list(spool.patients())
    monkeypatch.setattr(ingest_ndjson, "CHUNK_BYTES", 20_000)
    monkeypatch.setattr(ingest_ndjson, "MERGE_FAN_IN", 3)
    reading = [0]
    most_reading = [0]
    read_run = ingest_ndjson.read_run

    def counted_read_run(path):
        reading[0] += 1
        most_reading[0] = max(most_reading[0], reading[0])
        try:
            yield from read_run(path)
        finally:
            reading[0] -= 1

    monkeypatch.setattr(ingest_ndjson, "read_run", counted_read_run)
    with ingest_ndjson.spooled(export, spool_dir=tmp_path) as spool:
        assert spool.runs > 3 * 3  # at least two merge passes before the last merge
        assert list(spool.patients()) == in_memory
    assert most_reading[0] == 3
    with ingest_ndjson.spooled(export, partitions=2) as spool:
        shares = [list(spool.patients(part)) for part in range(2)]
    assert sorted(patient for share in shares for patient in share) == in_memory
    assert most_reading[0] == 3 and reading[0] == 0


def test_a_chunk_counts_each_lines_objects_not_only_its_text(tmp_path, monkeypatch):
    """Many tiny lines whose text alone fits in a chunk still fill it: their objects count too."""
    line = '{"resourceType": "Condition", "subject": {"reference": "Patient/p%d"}}\n'
    lines = [line % (n % 7) for n in range(300)]
    (tmp_path / "Condition.ndjson").write_text("".join(lines))
    monkeypatch.setattr(ingest_ndjson, "CHUNK_BYTES", 2 * sum(map(len, lines)))
    with ingest_ndjson.spooled(tmp_path) as spool:
        assert spool.runs >= 2 and not spool.held
        assert sum(len(group) for group in spool.groups()) == 300

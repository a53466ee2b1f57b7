"""Bad input to `outcomes compute | export` and `demo backend-client`: one sentence, no trace."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from app import create_app
from app.db import close_stores
from app.devtools.demo_commands import backend_client
from app.devtools.fhir_server import FixtureFhirServer
from app.outcomes.bulk_client import FIRST_DELAY, BulkExportClient, ExportRequest
from app.outcomes.export_command import export
from app.outcomes.outcomes_commands import DEFAULT_CONTENT, compute
from tests.outcomes_io.helpers import write_bundles, write_ndjson


def one_sentence(result, *fragments: str) -> str:
    """The command failed with one `Error:` line holding the fragments; return that line."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def content(tmp_path):
    """A copy of the real content folder to break."""
    return shutil.copytree(DEFAULT_CONTENT, tmp_path / "content")


def test_compute_output_into_a_missing_folder_is_one_sentence(tmp_path):
    target = tmp_path / "nodir" / "out.txt"
    ndjson = write_ndjson(tmp_path / "export")
    result = CliRunner().invoke(compute, ["--ndjson", str(ndjson), "--output", str(target)])
    line = one_sentence(result)
    assert line == f"Error: Cannot write {target}: No such file or directory."


def test_compute_without_the_measure_schema_names_the_file(tmp_path, content):
    schema = content / "measures" / "measure.schema.json"
    schema.unlink()
    args = ["--ndjson", str(tmp_path), "--content", str(content)]
    line = one_sentence(CliRunner().invoke(compute, args))
    assert line == f"Error: {schema}: not a usable JSON Schema (No such file or directory)."


def test_compute_with_a_value_set_concept_without_a_code_names_the_file(tmp_path, content):
    value_set = content / "measures" / "valuesets" / "lvef.json"
    resource = json.loads(value_set.read_text())
    del resource["compose"]["include"][0]["concept"][0]["code"]
    value_set.write_text(json.dumps(resource))
    args = ["--ndjson", str(tmp_path), "--content", str(content)]
    line = one_sentence(CliRunner().invoke(compute, args))
    assert line == f"Error: {value_set}: a concept of http://loinc.org has no code."


def test_export_into_a_folder_under_a_file_is_one_sentence(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    args = ["--fhir-server", "https://ehr.example/fhir", "--token", "x"]
    result = CliRunner().invoke(export, [*args, "--out", str(blocker / "sub")])
    assert one_sentence(result) == f"Error: Cannot write {blocker / 'sub'}: Not a directory."


def test_a_retry_after_that_is_not_ascii_digits_waits_the_default_and_goes_on(tmp_path):
    waits: list[float] = []
    fixtures = write_bundles(tmp_path / "fixtures")
    with FixtureFhirServer(fixtures, pending_polls=1, retry_after="\N{SUPERSCRIPT TWO}") as server:
        client = BulkExportClient(sleep=waits.append)
        result = client.run(ExportRequest(server.base_url, types=("Patient",)), tmp_path / "out")
    assert waits == [FIRST_DELAY]
    assert list(result.files) == ["Patient-1.ndjson"]


def test_demo_backend_client_under_a_file_is_one_sentence(tmp_path):
    instance = tmp_path / "instance"
    settings = {"TESTING": True, "DEMO": True, "DATABASE": str(instance / "bedside.db")}
    app = create_app(settings, instance_path=instance)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    try:
        result = app.test_cli_runner().invoke(backend_client, ["--out", str(blocker / "x.json")])
    finally:
        close_stores(app)
    line = one_sentence(result)
    assert line == f"Error: Cannot write {blocker / 'x.json'}: Not a directory."


def test_compute_with_a_value_set_number_of_5000_digits_names_the_file(tmp_path, content):
    value_set = content / "measures" / "valuesets" / "lvef.json"
    value_set.write_text('{"resourceType": "ValueSet", "version": ' + "1" * 5000 + "}")
    args = ["--ndjson", str(tmp_path), "--content", str(content)]
    line = one_sentence(CliRunner().invoke(compute, args))
    assert line == (
        f"Error: {value_set}: cannot be read as JSON (a number has more than 4,300 digits)."
    )

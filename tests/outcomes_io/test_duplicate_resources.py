"""A resource an export gives twice (same type and id) is read once: its last copy, counted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.devtools.synthetic.replicate import replicate_export
from app.outcomes.outcomes_commands import compute
from tests.outcomes_io.helpers import write_ndjson

AS_OF = ["--as-of", "2026-11-01"]
LATE = "Practitioner/LATE"


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    """The synthetic export twice over, its medicines as shared Medication resources."""
    root = tmp_path_factory.mktemp("duplicates")
    replicate_export(write_ndjson(root / "export"), 2, root / "x2")
    return root / "x2"


def run(*args: str):
    """Invoke compute and return the result (stdout and stderr apart)."""
    return CliRunner().invoke(compute, list(args), catch_exceptions=False)


def with_copies(clean: Path, target: Path, copies: dict[str, list[dict]]) -> Path:
    """The clean export plus files holding copies of its resources, named as given."""
    shutil.copytree(clean, target)
    for name, resources in copies.items():
        (target / name).write_text("".join(json.dumps(r) + "\n" for r in resources))
    return target


def resources(path: Path) -> list[dict]:
    """The resources of one NDJSON file."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def attended_by(encounter: dict, reference: str) -> dict:
    """The encounter with another attending clinician."""
    participant = [
        {"individual": {"reference": reference}, "type": encounter["participant"][0]["type"]}
    ]
    return encounter | {"participant": participant}


def clinicians(output: str) -> set[str]:
    """Every clinician named in the JSON results."""
    return {who for result in json.loads(output).values() for who in result["by_clinician"]}


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_stale_copy_of_encounters_and_medications_is_not_counted_twice(clean, tmp_path, workers):
    """An earlier file repeating resources changes no number, and the command says so."""
    encounters = resources(clean / "Encounter.ndjson")
    medications = resources(clean / "Medication.ndjson")
    stale = {  # named to sort before the files they repeat: the later copies count
        "Encounter-0.ndjson": [attended_by(e, LATE) for e in encounters],
        "Medication-0.ndjson": medications,
    }
    export = with_copies(clean, tmp_path / "stale", stale)
    common = [*AS_OF, "--format", "json", "--workers", workers]
    expected = run("--ndjson", str(clean), *common)
    result = run("--ndjson", str(export), *common)
    assert result.exit_code == 0, result.output
    assert result.stdout == expected.stdout
    assert LATE not in clinicians(result.stdout)
    copies = len(encounters) + len(medications)
    assert result.stderr == (
        f"Left out {copies} earlier copies of resources the export gives more than once (the"
        " same type and id): the last copy, by file name and line, counts.\n"
    )
    assert "Left out" not in expected.stderr


def test_the_last_copy_in_export_order_is_the_one_counted(clean, tmp_path):
    """A later file's copy replaces the earlier one: its clinician gets the encounters' cases."""
    encounters = resources(clean / "Encounter.ndjson")
    later = {"zz-later.ndjson": [attended_by(e, LATE) for e in encounters]}
    export = with_copies(clean, tmp_path / "later", later)
    result = run("--ndjson", str(export), *AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    assert clinicians(result.stdout) == {LATE}
    expected = json.loads(run("--ndjson", str(clean), *AS_OF, "--format", "json").stdout)
    overall = {measure: r["overall"] for measure, r in json.loads(result.stdout).items()}
    assert overall == {measure: r["overall"] for measure, r in expected.items()}
    assert f"Left out {len(encounters)} earlier copies" in result.stderr

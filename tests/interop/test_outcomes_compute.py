"""`bedside outcomes compute --fhir-server` on Medplum gives the measures `--ndjson` gives."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from app.outcomes.ingest_fhir import FhirSource
from app.outcomes.outcomes_commands import compute
from tests.interop.conftest import TOKEN, MedplumServer
from tests.outcomes.test_synthetic import dataset
from tests.outcomes_io.helpers import write_resources

AS_OF = ("--as-of", "2026-11-01")
# Medplum's in-memory `patient=` search costs about 1 ms per stored resource (it evaluates
# `resolve()` on each), so the whole population would take minutes: every 12th patient is plenty.
EVERY_NTH_PATIENT = 12


@pytest.fixture(scope="module")
def population() -> list[dict]:
    """The practitioners and a spread of the synthetic patients, as one list of resources."""
    data = dataset()
    patients = data.patients[::EVERY_NTH_PATIENT]
    return [*data.practitioners, *(resource for group in patients for resource in group)]


@pytest.fixture(scope="module")
def medplum_population(node, population) -> Iterator[MedplumServer]:
    """Medplum holding that population."""
    with MedplumServer(node) as server:
        server.load(population)
        yield server


def run(*args: str, env: dict | None = None):
    """Invoke compute and return the result."""
    return CliRunner().invoke(compute, list(args), env=env, catch_exceptions=False)


def test_measures_match_the_ndjson_export(tmp_path, population, medplum_population):
    export = write_resources(tmp_path / "export", population)
    from_ndjson = run("--ndjson", str(export), *AS_OF, "--format", "json")
    from_medplum = run(
        *("--fhir-server", medplum_population.base_url, *AS_OF, "--format", "json"),
        env={"BEDSIDE_HOOK_TOKEN": TOKEN},
    )
    assert from_ndjson.exit_code == from_medplum.exit_code == 0, from_medplum.output
    expected = json.loads(from_ndjson.output)
    assert sum(m["overall"]["numerator"] for m in expected.values()) >= 10
    assert json.loads(from_medplum.output) == expected


def test_next_links_are_followed_across_pages(medplum_population, population):
    patients = {r["id"] for r in population if r["resourceType"] == "Patient"}
    with FhirSource(medplum_population.base_url, TOKEN) as source:
        pages = list(source.search("Patient", {"_count": 7}))
    assert sorted(patient["id"] for patient, _ in pages) == sorted(patients)
    assert {total for _, total in pages} == {len(patients)}

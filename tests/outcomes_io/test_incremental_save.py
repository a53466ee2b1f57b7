"""`compute --save` of an incremental (`_since`) export: merged, never a period replaced; deletions.

The export folder is what `outcomes export --since` writes: the NDJSON files, the server's
manifest.json (its `request` the kick-off URL, with `_since`) and deleted/Bundle-<n>.ndjson.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from app.database import Database, parse_database_url, role_script
from app.outcomes import parallel
from app.outcomes.outcomes_commands import compute
from app.outcomes.practice_store import PRACTICE_SCHEMA, PracticeStore
from tests.outcomes.charts import measures
from tests.outcomes.test_synthetic import dataset
from tests.outcomes_io.helpers import write_ndjson
from tests.outcomes_io.test_practice_store import END, START, cases

AS_OF = ["--as-of", "2026-11-01"]
SINCE = "2026-06-01T00:00:00Z"
KICK_OFF = f"https://ehr.example/fhir/Group/all/$export?_type=Patient,Encounter&_since={SINCE}"


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    """The synthetic dataset as a full export."""
    return write_ndjson(tmp_path_factory.mktemp("full"))


@pytest.fixture(scope="module")
def stored(export) -> list:
    """The dated denominator cases a full --save stores."""
    found = parallel.evaluate_export(measures().values(), export, as_of=dataset().as_of)
    return [case for case in found if case.in_denominator and case.period_start is not None]


def run(*args: str):
    """Invoke compute and return the result (stdout and stderr apart)."""
    return CliRunner().invoke(compute, list(args), catch_exceptions=False)


def count(database: str) -> int:
    """How many cases are stored."""
    saved = Database(parse_database_url(database))
    try:
        with saved.read() as connection:
            return connection.execute(text("SELECT count(*) FROM practice_cases")).scalar_one()
    finally:
        saved.dispose()


def incremental(directory: Path, export: Path, deleted: list[dict] | None = None) -> Path:
    """A `_since` export: the full export's Practitioners only, its manifest, deleted Bundles."""
    directory.mkdir()
    (directory / "Practitioner.ndjson").write_bytes((export / "Practitioner.ndjson").read_bytes())
    manifest = {
        "transactionTime": "2026-11-01T00:00:00Z",
        "request": KICK_OFF,
        "requiresAccessToken": True,
        "output": [{"type": "Practitioner", "url": "https://ehr.example/files/1"}],
        "error": [],
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))
    if deleted is not None:
        (directory / "deleted").mkdir()
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": deleted}
        (directory / "deleted" / "Bundle-1.ndjson").write_text(json.dumps(bundle) + "\n")
    return directory


def deleting(url: str, method: str = "DELETE") -> dict:
    """A deleted Bundle's entry."""
    return {"request": {"method": method, "url": url}}


def full_save(export: Path, database: str) -> int:
    """Save the full export; how many cases were stored."""
    saved = run("--ndjson", str(export), *AS_OF, "--save", "--database-url", database)
    assert saved.exit_code == 0, saved.output
    return count(database)


def test_deleted_encounters_and_patients_lose_their_saved_cases(
    export, stored, database_url, tmp_path
):
    """An encounter and a patient the deleted Bundles name lose every saved case; no one else."""
    total = full_save(export, database_url)
    assert total == len(stored)
    encounter = stored[0]
    patients = Counter(case.patient_key for case in stored)
    patient = next(p for p in patients if p != encounter.patient_key)
    gone = sum(
        case.patient_key == patient
        or (case.patient_key, case.encounter_id) == (encounter.patient_key, encounter.encounter_id)
        for case in stored
    )
    other = next(
        case for case in stored if case.patient_key not in (patient, encounter.patient_key)
    )
    changes = incremental(
        tmp_path / "changes",
        export,
        [
            deleting(f"Encounter/{encounter.encounter_id}"),
            deleting(f"https://ehr.example/fhir/Patient/{patient}/_history/3"),
            deleting(f"Encounter/{other.encounter_id}", method="GET"),
            deleting("Observation/o-1"),
        ],
    )
    merged = run("--ndjson", str(changes), *AS_OF, "--save", "--database-url", database_url)
    assert merged.exit_code == 0, merged.output
    assert merged.stderr == (
        "Merged 0 measure cases (no patient identifiers) of the encounters in this export"
        " (replacing 0 earlier cases of the same encounters)."
        f" Removed {gone} saved cases of the encounters and patients the export lists as"
        " deleted.\n"
    )
    assert count(database_url) == total - gone > 0
    again = run("--ndjson", str(changes), *AS_OF, "--save", "--database-url", database_url)
    assert "Removed 0 saved cases" in again.stderr and count(database_url) == total - gone


def test_a_save_of_an_incremental_export_merges_without_since(export, database_url, tmp_path):
    """No --since: the manifest's `_since` makes --save merge, so no saved case is lost."""
    total = full_save(export, database_url)
    changes = incremental(tmp_path / "changes", export)
    merged = run("--ndjson", str(changes), *AS_OF, "--save", "--database-url", database_url)
    assert merged.exit_code == 0, merged.output
    assert merged.stderr.startswith("Merged 0 measure cases") and "Removed" not in merged.stderr
    assert count(database_url) == total


def test_a_period_replacing_save_of_an_incremental_export_is_refused(export, tmp_path):
    """--since DATE --save would replace the period with only what changed: one sentence."""
    database = f"sqlite:///{tmp_path / 'practice.db'}"
    total = full_save(export, database)
    changes = incremental(tmp_path / "changes", export)
    args = ["--ndjson", str(changes), *AS_OF, "--since", "2026-06-01", "--save"]
    refused = run(*args, "--database-url", database)
    assert refused.exit_code == 2
    assert (
        f"Error: {changes} holds only what changed since {SINCE} (an incremental export), so"
        " --save cannot replace the period from --since 2026-06-01 with it: leave out --since"
        " to merge it per encounter."
    ) in " ".join(refused.output.split())
    assert count(database) == total
    shown = run("--ndjson", str(changes), *AS_OF, "--since", "2026-06-01")
    assert shown.exit_code == 0  # without --save the date only chooses the cases shown


def test_a_manifest_that_is_not_json_is_one_sentence(export, tmp_path):
    """A damaged manifest.json is named before anything is computed or saved."""
    changes = incremental(tmp_path / "changes", export)
    (changes / "manifest.json").write_text("{")
    database = f"sqlite:///{tmp_path / 'practice.db'}"
    result = run("--ndjson", str(changes), *AS_OF, "--save", "--database-url", database)
    assert result.exit_code == 1
    assert result.output == f"Error: manifest.json of {changes} is not valid JSON\n"


def test_deletions_need_only_the_printed_grants(postgres_url):
    """On PostgreSQL a least-privilege role with the printed grants saves, merges and deletes."""
    owner = Database(parse_database_url(postgres_url))
    PracticeStore(owner)
    with owner.write() as connection:
        connection.execute(text("CREATE ROLE bedside_practice LOGIN"))
        connection.exec_driver_sql(role_script([PRACTICE_SCHEMA], "bedside_practice"))
    role_url = postgres_url.replace("://postgres@", "://bedside_practice@")
    as_app = Database(parse_database_url(role_url))
    try:
        store = PracticeStore(as_app)
        store.save_import(cases(6), START, END, "ndjson")
        deleted = ["Encounter/encounter-1", "Patient/patient-2", "Patient/nobody"]
        summary = store.merge_import(cases(1), "ndjson", deleted)
        assert (summary.replaced, summary.deleted) == (1, 2)
        assert len(store.load().cases) == 6 - 2
    finally:
        as_app.dispose()
        with owner.write() as connection:
            connection.execute(text("DROP OWNED BY bedside_practice"))
            connection.execute(text("DROP ROLE bedside_practice"))
        owner.dispose()

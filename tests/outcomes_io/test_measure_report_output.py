"""`compute --format measurereport`: a valid Bundle with or without reports; inclusive ends."""

from __future__ import annotations

import json

from click.testing import CliRunner
from fhir.resources.R4B.bundle import Bundle

from app.outcomes.outcomes_commands import compute
from tests.outcomes_io.helpers import write_ndjson, write_resources

AS_OF = ["--as-of", "2026-11-01"]


def reports_of(export) -> dict:
    """The command's MeasureReport Bundle for an export, checked to be valid FHIR R4B."""
    args = ["--ndjson", str(export), *AS_OF, "--format", "measurereport"]
    result = CliRunner().invoke(compute, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    bundle = json.loads(result.stdout)
    Bundle.model_validate(bundle)
    return bundle


def test_an_export_with_no_case_gives_a_bundle_without_an_empty_entry(tmp_path):
    """FHIR elements are never empty arrays: no report, no `entry` at all."""
    export = write_resources(tmp_path, [{"resourceType": "Patient", "id": "p1"}])
    bundle = reports_of(export)
    assert "entry" not in bundle and bundle["type"] == "collection"


def test_a_reports_period_ends_at_the_last_second_before_as_of(tmp_path):
    """--as-of is exclusive (its midnight is not covered); FHIR's Period.end is inclusive."""
    bundle = reports_of(write_ndjson(tmp_path))
    periods = {json.dumps(entry["resource"]["period"]) for entry in bundle["entry"]}
    assert len(bundle["entry"]) > 4
    (period,) = (json.loads(text) for text in periods)
    assert period["end"] == "2026-10-31T23:59:59Z"
    assert period["start"] < period["end"]

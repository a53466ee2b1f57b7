"""`outcomes compute` on the NDJSON export and a loopback FHIR server: exact numbers."""

from __future__ import annotations

import json

from click.testing import CliRunner
from fhir.resources.R4B.bundle import Bundle

from app.devtools.fhir_server import FixtureFhirServer
from app.outcomes.commands import compute
from app.outcomes.synthetic import expected_summary
from tests.outcomes.test_synthetic import dataset
from tests.outcomes_io.helpers import TOKEN, expected_overall, write_bundles, write_ndjson

AS_OF = ["--as-of", "2026-11-01"]


def run(*args: str, env: dict | None = None):
    """Invoke compute and return the result."""
    return CliRunner().invoke(compute, list(args), env=env, catch_exceptions=False)


def test_json_from_ndjson_matches_expected(tmp_path):
    """JSON output: overall and per-clinician counts equal the generator's expectations."""
    result = run("--ndjson", str(write_ndjson(tmp_path)), *AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    results = json.loads(result.output)
    for measure_id, expected in expected_summary(dataset()).items():
        got = results[measure_id]
        assert {k: got["overall"][k] for k in expected["overall"]} == expected["overall"]
        for who, counts in expected["by_clinician"].items():
            assert {k: got["by_clinician"][who][k] for k in counts} == counts


def test_table_shows_rates_intervals_and_small_cells(tmp_path):
    """The table gives rate, Wilson CI and marks small cells."""
    result = run("--ndjson", str(write_ndjson(tmp_path)), *AS_OF)
    assert result.exit_code == 0, result.output
    uri = expected_overall()["uri-appropriate-treatment"]
    eligible = uri["denominator"] - uri["excluded"]
    assert f"uri-appropriate-treatment: {uri['numerator']}/{eligible} = " in result.output
    assert "95% CI" in result.output
    assert " *\n" in result.output


def test_measurereport_from_fhir_server_with_env_token(tmp_path):
    """FHIR server + token from the environment, written as a MeasureReport Bundle file."""
    output = tmp_path / "reports.json"
    with FixtureFhirServer(write_bundles(tmp_path / "fhir"), token=TOKEN) as server:
        result = run(
            "--fhir-server",
            server.base_url,
            *AS_OF,
            "--since",
            "2025-11-01",
            "--format",
            "measurereport",
            "--output",
            str(output),
            env={"BEDSIDE_HOOK_TOKEN": TOKEN},
        )
    assert result.exit_code == 0, result.output
    bundle = json.loads(output.read_text())
    Bundle.model_validate(bundle)
    summaries = {
        e["resource"]["measure"].rsplit("/", 1)[-1]: e["resource"]
        for e in bundle["entry"]
        if "subject" not in e["resource"]
    }
    for measure_id, expected in expected_overall().items():
        pops = summaries[measure_id]["group"][0]["population"]
        counts = {p["code"]["coding"][0]["code"]: p["count"] for p in pops}
        assert counts["numerator"] == expected["numerator"]
        assert counts["denominator"] == expected["denominator"]


def test_readable_errors(tmp_path):
    """Wrong source choice, missing directory and refused token are one-line errors."""
    both = run("--ndjson", str(tmp_path), "--fhir-server", "https://x.example")
    assert both.exit_code == 2 and "exactly one" in both.output
    missing = run("--ndjson", str(tmp_path / "missing"))
    assert missing.exit_code == 1 and "does not exist" in missing.output
    plain = run("--fhir-server", "http://fhir.example.org/r4")
    assert plain.exit_code == 1 and "https" in plain.output
    assert "Traceback" not in plain.output

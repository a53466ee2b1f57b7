"""`outcomes compute` on the NDJSON export and a loopback FHIR server: exact numbers."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from fhir.resources.R4B.bundle import Bundle

from app.devtools.fhir_server import FixtureFhirServer
from app.devtools.synthetic import codes
from app.devtools.synthetic.dataset import expected_summary
from app.outcomes.outcomes_commands import DEFAULT_CONTENT, compute
from tests.outcomes.test_synthetic import dataset
from tests.outcomes_io.helpers import (
    TOKEN,
    distinct_chart,
    expected_overall,
    write_bundles,
    write_ndjson,
    write_resources,
)

AS_OF = ["--as-of", "2026-11-01"]


def run(*args: str, env: dict | None = None):
    """Invoke compute and return the result."""
    return CliRunner().invoke(compute, list(args), env=env, catch_exceptions=False)


def small(counts: dict) -> bool:
    """Fewer than 5 eligible cases."""
    return counts["denominator"] - counts["excluded"] < 5


def test_json_from_ndjson_matches_expected(tmp_path):
    """JSON output: overall and per-clinician counts as expected; small clinician cells withheld."""
    result = run("--ndjson", str(write_ndjson(tmp_path)), *AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    results = json.loads(result.output)
    suppressed = 0
    for measure_id, expected in expected_summary(dataset()).items():
        got = results[measure_id]
        assert {k: got["overall"][k] for k in expected["overall"]} == expected["overall"]
        for who, counts in expected["by_clinician"].items():
            row = got["by_clinician"][who]
            if small(counts):
                suppressed += 1
                assert row == {"suppressed": True, "small_cell": True}
            else:
                assert {k: row[k] for k in counts} == counts and row["suppressed"] is False
    assert suppressed == 3 + 6  # C10-C12 for acute bronchitis; all six with pharyngitis cases


def test_table_shows_rates_intervals_and_suppresses_small_cells(tmp_path):
    """The table gives rate and Wilson CI; clinicians with < 5 eligible cases show no counts."""
    result = run("--ndjson", str(write_ndjson(tmp_path)), *AS_OF)
    assert result.exit_code == 0, result.output
    uri = expected_overall()["uri-appropriate-treatment"]
    eligible = uri["denominator"] - uri["excluded"]
    assert f"uri-appropriate-treatment: {uri['numerator']}/{eligible} = " in result.output
    assert "95% CI" in result.output
    bronchitis = expected_summary(dataset())["bronchitis-antibiotic-avoidance"]
    block = clinician_lines(result.output, "bronchitis-antibiotic-avoidance")
    for who, counts in bronchitis["by_clinician"].items():
        assert block[who].endswith("<5 suppressed") is small(counts), block[who]
    overall = bronchitis["overall"]
    assert f"bronchitis-antibiotic-avoidance: {overall['numerator']}/" in result.output


def clinician_lines(output: str, measure_id: str) -> dict[str, str]:
    """The indented clinician lines under one measure's line of the table, by clinician."""
    lines = output.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(f"{measure_id}: ")) + 1
    block = {}
    for line in lines[first:]:
        if not line.startswith("  "):
            break
        block[line.split()[0]] = line
    return block


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
        notation = summaries[measure_id]["improvementNotation"]["coding"][0]["code"]
        assert notation in {"increase", "decrease"}


def test_readable_errors(tmp_path):
    """Wrong source choice, missing directory and refused token are one-line errors."""
    both = run("--ndjson", str(tmp_path), "--fhir-server", "https://x.example")
    assert both.exit_code == 2 and "exactly one" in both.output
    missing = run("--ndjson", str(tmp_path / "missing"))
    assert missing.exit_code == 1 and "does not exist" in missing.output
    plain = run("--fhir-server", "http://fhir.example.org/r4")
    assert plain.exit_code == 1 and "https" in plain.output
    assert "Traceback" not in plain.output


def test_a_measure_kind_this_version_cannot_compute_is_one_sentence(tmp_path):
    """Content from a newer release (its schema allows a new kind): every engine says so, exit 1."""
    content = content_with_kind(tmp_path / "content", "uri-appropriate-treatment", "newer-kind")
    export = str(write_ndjson(tmp_path / "export"))
    for engine in (["--engine", "local"], ["--workers", "2"], ["--engine", "spark"]):
        result = run("--ndjson", export, "--content", str(content), *engine)
        assert result.exit_code == 1, result.output
        assert result.output == (
            "Error: measure uri-appropriate-treatment: no computation for 'newer-kind'\n"
        )


def content_with_kind(content: Path, measure_id: str, kind: str) -> Path:
    """A copy of the shipped measures whose schema allows `kind` and whose measure uses it."""
    for folder in ("measures", "valuesets"):
        shutil.copytree(DEFAULT_CONTENT / folder, content / folder)
    schema_path = content / "measures" / "measure.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    schema["properties"]["kind"]["enum"].append(kind)
    schema_path.write_text(json.dumps(schema), encoding="utf-8")
    measure_path = content / "measures" / f"{measure_id}.yaml"
    text = measure_path.read_text(encoding="utf-8")
    measure_path.write_text(text.replace("kind: respiratory-antibiotic-avoidance", f"kind: {kind}"))
    return content


def test_without_as_of_an_open_window_is_not_counted(tmp_path):
    """No --as-of: the data end now, so a URI visit 1 day ago (72 h window open) is not counted."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    resources = []
    for number, days_ago in ((1, 1), (2, 10)):
        chart = distinct_chart(f"p{number}")
        start = now - timedelta(days=days_ago)
        visit = chart.visit(start)
        chart.condition(codes.URI[0], visit, onset=start.date().isoformat())
        resources += chart.resources
    result = run("--ndjson", str(write_resources(tmp_path, resources)), "--format", "json")
    assert result.exit_code == 0, result.output
    overall = json.loads(result.output)["uri-appropriate-treatment"]["overall"]
    assert (overall["denominator"], overall["numerator"]) == (1, 1)

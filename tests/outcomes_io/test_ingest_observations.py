"""Lab results reach the measures from both loaders: a strep test from NDJSON or FHIR search."""

from __future__ import annotations

import json

from app.devtools.fhir_server import FixtureFhirServer
from app.devtools.synthetic import codes
from app.outcomes import ingest_ndjson
from app.outcomes.ingest_fhir import FhirSource
from app.outcomes.measures import evaluate_patients
from tests.outcomes.charts import AMOXICILLIN, PHARYNGITIS, Chart, at, hours, measures
from tests.outcomes_io.helpers import TOKEN, distinct_chart, write_resources

START = at("2026-03-02T10:00")
RAPID_STREP = (
    codes.LOINC,
    "78012-2",
    "Streptococcus pyogenes Ag [Presence] in Throat by Rapid immunoassay",
)
EXPECTED = {"p1": True, "p2": False}


def treated_pharyngitis(patient_id: str, tested: bool) -> Chart:
    """A pharyngitis visit with amoxicillin ordered, with or without a strep test resulted."""
    chart = distinct_chart(patient_id)
    visit = chart.visit(START)
    chart.condition(codes.COMPETING[4], visit, onset=START.date().isoformat())
    chart.order(AMOXICILLIN, START + hours(1), visit)
    if tested:
        chart.observation(RAPID_STREP, START + hours(0.5), text_value="Negative")
    return chart


def charts() -> list[Chart]:
    """One tested visit (p1) and one untested visit (p2)."""
    return [treated_pharyngitis("p1", tested=True), treated_pharyngitis("p2", tested=False)]


def verdicts_of(groups) -> dict[str, bool]:
    """Patient id -> whether the visit counted as tested."""
    cases = evaluate_patients([measures()[PHARYNGITIS]], groups, as_of=START + hours(100))
    return {case.patient_key: case.in_numerator for case in cases if case.in_denominator}


def test_ndjson_carries_the_strep_test_to_the_measure(tmp_path):
    """Observation.ndjson is grouped with its patient, so the tested visit is in the numerator."""
    export = write_resources(tmp_path, [r for chart in charts() for r in chart.resources])
    assert (tmp_path / "Observation.ndjson").is_file()
    assert verdicts_of(ingest_ndjson.patient_groups(export)) == EXPECTED


def test_fhir_search_carries_the_strep_test_to_the_measure(tmp_path):
    """The FHIR loader searches Observation per patient, so the tested visit is in the numerator."""
    for chart in charts():
        bundle = {"resourceType": "Bundle", "type": "collection"}
        bundle["entry"] = [{"resource": resource} for resource in chart.resources]
        (tmp_path / f"{chart.patient_id}.json").write_text(json.dumps(bundle), encoding="utf-8")
    with (
        FixtureFhirServer(tmp_path, token=TOKEN) as server,
        FhirSource(server.base_url, TOKEN) as source,
    ):
        assert verdicts_of(list(source.patient_groups())) == EXPECTED
    assert any("/Observation?" in path for _, path, _ in server.requests_seen)

"""MeasureReport export: valid FHIR R4B, standard population codes, no patient ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.measurereport import MeasureReport

from app.outcomes import reports, stats
from app.outcomes.measures import evaluate_patients
from tests.outcomes.charts import measures
from tests.outcomes.test_synthetic import dataset
from tests.outcomes_io.helpers import expected_overall

START = datetime(2025, 11, 1, tzinfo=UTC)
CODES = {"initial-population", "denominator", "denominator-exclusion", "numerator"}


@cache
def bundle() -> dict:
    """The programme reports of the synthetic dataset."""
    data = dataset()
    cases = list(evaluate_patients(measures().values(), data.patient_groups(), as_of=data.as_of))
    return reports.programme_reports(cases, START, data.as_of, created=data.as_of)


def populations(report: dict) -> dict[str, int]:
    """Population counts of a one-group report, by code."""
    return {p["code"]["coding"][0]["code"]: p["count"] for p in report["group"][0]["population"]}


def test_reports_validate_and_match_expected_counts():
    """Every report validates; programme summaries carry the generator's counts and score."""
    Bundle.model_validate(bundle())
    summaries = {}
    for entry in bundle()["entry"]:
        report = entry["resource"]
        MeasureReport.model_validate(report)
        assert report["type"] == "summary"
        assert set(populations(report)) == CODES
        if "subject" not in report:
            summaries[report["measure"].rsplit("/", 1)[-1]] = report
    assert set(summaries) == set(expected_overall())
    for measure_id, expected in expected_overall().items():
        counts = populations(summaries[measure_id])
        assert counts["numerator"] == expected["numerator"]
        assert counts["denominator"] == expected["denominator"]
        assert counts["denominator-exclusion"] == expected["excluded"]
        rate = stats.Rate(expected["numerator"], expected["denominator"], expected["excluded"])
        score = summaries[measure_id]["group"][0]["measureScore"]["value"]
        assert score == round(rate.rate, 6)


def test_clinician_reports_use_practitioner_subject_and_no_patient_ids():
    """Per-clinician reports name the Practitioner; no report mentions a patient."""
    subjects = {e["resource"].get("subject", {}).get("reference") for e in bundle()["entry"]}
    assert "Practitioner/C03" in subjects
    assert all(s is None or s.startswith("Practitioner/") for s in subjects)
    text = json.dumps(bundle())
    assert "Patient" not in text
    patient_ids = {group[0]["id"] for group in dataset().patients}
    assert not any(f'"{pid}"' in text for pid in patient_ids)


def test_empty_rate_has_no_score():
    """0/0 gives counts but no measureScore."""
    report = reports.measure_report("x", stats.Rate(0, 0), START, START)
    MeasureReport.model_validate(report)
    assert "measureScore" not in report["group"][0]

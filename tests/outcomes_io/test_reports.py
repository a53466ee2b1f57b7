"""MeasureReport export: valid FHIR R4B, population codes, small cells, individual reports."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.measurereport import MeasureReport

from app import stats
from app.outcomes import reports
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


DIRECTIONS = {
    "uri-appropriate-treatment": "higher-is-better",
    "sepsis-3h-bundle": "lower-is-better",  # a made-up direction, to see decrease
}


def cases() -> list:
    """The synthetic dataset's measure cases."""
    data = dataset()
    return list(evaluate_patients(measures().values(), data.patient_groups(), as_of=data.as_of))


def test_programme_bundle_leaves_out_small_cells_unless_asked():
    """By default no group has fewer than 5 eligible cases; min_cell=0 keeps every clinician."""
    data = dataset()
    small = {(e["resource"]["measure"], e["resource"].get("subject", {}).get("reference"))
             for e in reports.programme_reports(cases(), START, data.as_of, min_cell=0)["entry"]
             if eligible(e["resource"]) < 5}  # fmt: skip
    assert small
    kept = {
        (e["resource"]["measure"], e["resource"].get("subject", {}).get("reference"))
        for e in bundle()["entry"]
    }
    assert not small & kept
    assert all(eligible(e["resource"]) >= 5 for e in bundle()["entry"])


def eligible(report: dict) -> int:
    """Denominator minus exclusions of a report."""
    counts = populations(report)
    return counts["denominator"] - counts["denominator-exclusion"]


def test_improvement_notation_follows_the_measure_direction():
    """higher-is-better → increase, lower-is-better → decrease, unknown → absent; all valid."""
    data = dataset()
    found = reports.programme_reports(cases(), START, data.as_of, directions=DIRECTIONS)
    Bundle.model_validate(found)
    notation = {
        e["resource"]["measure"].rsplit("/", 1)[1]: e["resource"].get("improvementNotation")
        for e in found["entry"]
    }
    system = reports.IMPROVEMENT_SYSTEM
    assert notation["uri-appropriate-treatment"]["coding"][0]["code"] == "increase"
    assert notation["uri-appropriate-treatment"]["coding"][0]["system"] == system
    assert notation["sepsis-3h-bundle"]["coding"][0]["code"] == "decrease"
    assert notation["hfref-beta-blocker"] is None


def test_individual_reports_one_per_own_case_and_valid():
    """Individual reports: one per denominator case of the clinician, dated to the day, valid."""
    mine = [c for c in cases() if c.clinician == "Practitioner/C03" and c.in_denominator]
    found = reports.individual_reports(cases(), "Practitioner/C03", created=dataset().as_of)
    Bundle.model_validate(found)
    entries = [e["resource"] for e in found["entry"]]
    assert len(entries) == len(mine) > 0
    for report in entries:
        MeasureReport.model_validate(report)
        assert report["type"] == "individual"
        assert report["reporter"] == {"reference": "Practitioner/C03"}
        assert report["period"]["start"].endswith("T00:00:00Z")
        assert report["period"]["end"].endswith("T23:59:59Z")
        assert populations(report)["denominator"] == 1
    met = sum(populations(r)["numerator"] for r in entries)
    assert met == sum(c.in_numerator for c in mine)


def test_individual_report_without_a_patient_has_no_subject():
    """A stored case (no patient key) gives a report with no subject at all."""
    case = next(c for c in cases() if c.in_denominator)
    stored = replace(case, patient_key="", encounter_id="")
    report = reports.individual_report(stored, direction="higher-is-better")
    MeasureReport.model_validate(report)
    assert "subject" not in report
    assert report["improvementNotation"]["coding"][0]["code"] == "increase"

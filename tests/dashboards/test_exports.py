"""MeasureReport downloads: valid FHIR, small cells left out, individual reports for self only."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.measurereport import MeasureReport

from app.devtools.synthetic.dataset import expected_summary, generate_dataset
from tests.dashboards.conftest import ISSUER, save_synthetic, sign_in

PROGRAMME = "/dashboards/measure-reports/programme.json"
INCREASE = "http://terminology.hl7.org/CodeSystem/measure-improvement-notation"


@pytest.fixture(scope="module")
def expected():
    """The generator's own answers for the default dataset."""
    return expected_summary(generate_dataset())


def bundle_of(response, status: int = 200) -> dict:
    """A downloaded Bundle, validated against FHIR R4B with every MeasureReport in it."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/fhir+json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    bundle = response.get_json(force=True)
    Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        MeasureReport.model_validate(entry["resource"])
    return bundle


def counts(report: dict) -> dict[str, int]:
    """Population counts of a report, by code."""
    return {p["code"]["coding"][0]["code"]: p["count"] for p in report["group"][0]["population"]}


def denominator_of(expected: dict, who: str) -> int:
    """A clinician's denominator cases over every measure."""
    return sum(s["by_clinician"].get(who, {}).get("denominator", 0) for s in expected.values())


def test_programme_export_leaves_out_small_cells(demo_client, expected):
    """Every group in the programme bundle has 5 or more eligible cases; C03's URI is in it."""
    bundle = bundle_of(demo_client.get(PROGRAMME))
    reports = [entry["resource"] for entry in bundle["entry"]]
    subjects = set()
    for report in reports:
        found = counts(report)
        assert found["denominator"] - found["denominator-exclusion"] >= 5
        assert report["type"] == "summary"
        assert report["improvementNotation"]["coding"][0] == {
            "system": INCREASE,
            "code": "increase",
            "display": "Increase",
        }
        subjects.add(
            (report["measure"].rsplit("/", 1)[1], report.get("subject", {}).get("reference"))
        )
    small = {
        (measure_id, who)
        for measure_id, summary in expected.items()
        for who, c in summary["by_clinician"].items()
        if c["denominator"] - c["excluded"] < 5
    }
    assert small and not small & subjects
    assert ("uri-appropriate-treatment", "Practitioner/C03") in subjects
    assert {measure_id for measure_id, who in subjects if who is None} == set(expected)


def test_clinician_summary_export(demo_client, expected):
    """C03's summary bundle: one report per measure with C03 cases, exact counts, no patients."""
    bundle = bundle_of(demo_client.get("/dashboards/clinicians/C03/measure-reports/summary.json"))
    found = {e["resource"]["measure"].rsplit("/", 1)[1]: e["resource"] for e in bundle["entry"]}
    mine = {
        measure_id: summary["by_clinician"]["Practitioner/C03"]
        for measure_id, summary in expected.items()
        if "Practitioner/C03" in summary["by_clinician"]
    }
    assert set(found) == set(mine)
    for measure_id, c in mine.items():
        assert found[measure_id]["subject"] == {"reference": "Practitioner/C03"}
        assert counts(found[measure_id])["numerator"] == c["numerator"]
    assert "Patient" not in json.dumps(bundle)


def test_demo_individual_reports_are_the_clinicians_own_cases(demo_client, expected):
    """Demo, not signed in: C03's individual reports, one per C03 case, synthetic patients."""
    url = "/dashboards/clinicians/C03/measure-reports/individual.json"
    bundle = bundle_of(demo_client.get(url))
    reports = [entry["resource"] for entry in bundle["entry"]]
    assert len(reports) == denominator_of(expected, "Practitioner/C03") > 0
    assert {r["type"] for r in reports} == {"individual"}
    assert {r["reporter"]["reference"] for r in reports} == {"Practitioner/C03"}
    assert all(r["subject"]["reference"].startswith("Patient/") for r in reports)
    assert all(counts(r)["denominator"] == 1 for r in reports)


def test_demo_signed_in_clinician_gets_no_one_elses_individual_reports(demo_app):
    """Demo with a SMART session as C05: C03's individual reports are refused (JSON error)."""
    client = demo_app.test_client()
    sign_in(demo_app, client, f"{ISSUER}/Practitioner/C05")
    response = client.get("/dashboards/clinicians/C03/measure-reports/individual.json")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert (
        client.get("/dashboards/clinicians/C05/measure-reports/individual.json").status_code == 200
    )


def test_outside_demo_own_exports_only_and_no_patient_in_individual_reports(live_app, expected):
    """Signed in as C03: own summary and individual reports; C05's are 403; no patient refs."""
    save_synthetic(live_app)
    client = live_app.test_client()
    sign_in(live_app, client, f"{ISSUER}/Practitioner/C03")
    base = "/dashboards/clinicians"
    bundle = bundle_of(client.get(f"{base}/C03/measure-reports/individual.json"))
    assert len(bundle["entry"]) == denominator_of(expected, "Practitioner/C03")
    assert "Patient" not in json.dumps(bundle) and "subject" not in json.dumps(bundle)
    bundle_of(client.get(f"{base}/C03/measure-reports/summary.json"))
    bundle_of(client.get(PROGRAMME))
    for kind in ("summary", "individual"):
        refused = client.get(f"{base}/C05/measure-reports/{kind}.json")
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("/dashboards/clinicians/NOPE/measure-reports/summary.json", "unknown_clinician"),
        (PROGRAMME, "no_practice_data"),
    ],
)
def test_bad_export_requests_are_json_errors(live_app, url, code):
    """Unknown clinician or nothing loaded: 404 in the JSON error shape, never a 500."""
    if code == "unknown_clinician":
        save_synthetic(live_app)
    client = live_app.test_client()
    sign_in(live_app, client, f"{ISSUER}/Practitioner/C03")
    response = client.get(url)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == code


def test_page_links_to_the_exports(demo_client):
    """The programme page links its export; a clinician's page links summary and individual."""
    programme = demo_client.get("/dashboards/").get_data(as_text=True)
    assert f'id="export-programme" href="{PROGRAMME}"' in programme
    html = demo_client.get("/dashboards/clinicians/C03").get_data(as_text=True)
    assert 'href="/dashboards/clinicians/C03/measure-reports/summary.json"' in html
    assert 'href="/dashboards/clinicians/C03/measure-reports/individual.json"' in html

"""Clinician pages read like a chart: human units, blood pressure as systolic/diastolic."""

from __future__ import annotations

import json

import pytest

from app.settings import REPO_ROOT
from app.ui.facts import entries, observation_value
from app.units import unit_text
from tests.ui.helpers import get

SEPSIS_PATIENT = REPO_ROOT / "fhir_fixtures/patients/sepsis-adult-ed.json"
UCUM_CODES = ("Cel", "10*3/uL", "mL/min/{1.73_m2}", "mm[Hg]")


def observation(loinc: str) -> dict:
    """The septic demo patient's observation with this LOINC code."""
    bundle = json.loads(SEPSIS_PATIENT.read_text(encoding="utf-8"))
    for entry in bundle["entry"]:
        resource = entry["resource"]
        codes = [c["code"] for c in resource.get("code", {}).get("coding", [])]
        if resource["resourceType"] == "Observation" and loinc in codes:
            return resource
    raise LookupError(loinc)


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("Cel", "°C"),
        ("mm[Hg]", "mmHg"),
        ("mL/min/{1.73_m2}", "mL/min/1.73 m²"),
        ("10*3/uL", "\N{MULTIPLICATION SIGN}10³/µL"),
        ("mg/dL", "mg/dL"),
    ],
)
def test_ucum_codes_print_as_clinicians_write_units(code, shown):
    assert unit_text({"code": code, "unit": code}) == shown


def test_an_unknown_unit_falls_back_to_the_ehr_text_then_the_code():
    assert unit_text({"code": "{copies}/mL", "unit": "copies/mL"}) == "copies/mL"
    assert unit_text({"code": "{copies}/mL"}) == "{copies}/mL"
    assert unit_text({}) == ""


def test_the_blood_pressure_panel_reads_its_components(ui_app):
    panel = observation("85354-9")
    assert "valueQuantity" not in panel
    with ui_app.test_request_context("/?lang=en"):
        assert observation_value(panel) == "92/58 mmHg"
        assert observation_value(observation("8310-5")) == "38.9 °C"
        assert observation_value(observation("59408-5")) == "93%"
    with ui_app.test_request_context("/?lang=es"):
        assert observation_value(observation("8310-5")) == "38,9 °C"


def test_a_panel_missing_a_component_shows_no_half_reading(ui_app):
    panel = observation("85354-9")
    panel["component"] = panel["component"][:1]
    with ui_app.test_request_context("/"):
        assert observation_value(panel) is None


def test_the_demo_chart_shows_the_blood_pressure_and_human_units(browser):
    chart = get(browser, "/demo-ehr/patients/sepsis-adult")
    assert "92/58 mmHg" in chart
    assert "38.9 °C" in chart and "17.4 \N{MULTIPLICATION SIGN}10³/µL" in chart
    for code in UCUM_CODES:
        assert code not in chart


def test_a_searchset_of_odd_shape_gives_only_its_resources_of_the_type():
    """The EHR's Bundle may hold a number for entry, or junk entries: those give nothing."""
    observation = {"resourceType": "Observation", "id": "o1"}
    assert list(entries({"entry": 5}, "Observation")) == []
    odd = {"entry": [5, {"resource": 5}, {"resource": observation}, {"search": {}}]}
    assert list(entries(odd, "Observation")) == [observation]

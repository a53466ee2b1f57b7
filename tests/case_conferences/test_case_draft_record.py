"""What a drafted teaching case takes from the record: nothing withdrawn, and no more than fits."""

from __future__ import annotations

import re

import pytest

from app.case_conferences.vignette import VIGNETTE_MAX
from tests.case_conferences.test_case_pages import draft_case, launched
from tests.ui.helpers import get, post

SUBJECT = {"reference": "Patient/sepsis-adult"}
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ACTIVE_CONDITION = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
    ]
}
LONG_PROBLEM = (
    "Chronic problem number {} of a long list kept in this record for teaching, described at"
    " length as a busy record describes its problems, with more words than a vignette needs"
)
LONG_RECORD = 50  # the demo EHR's page of search results: all the draft reads


@pytest.fixture
def author(clubs_app, auth_server):
    """The demo clinician, launched on the sepsis patient."""
    return launched(clubs_app, auth_server, "dr-ed-okafor")


def add(app, *resources: dict) -> None:
    """Put resources in the demo EHR's record of the sepsis patient."""
    for resource in resources:
        app.extensions["demo_fhir_store"].add(resource, origin="test")


def observation(id_: str, status: str, name: str, value: float) -> dict:
    """An observation of the sepsis patient in a status."""
    return {
        "resourceType": "Observation",
        "id": id_,
        "status": status,
        "subject": SUBJECT,
        "code": {"text": name},
        "effectiveDateTime": "2026-03-10T13:00:00Z",
        "valueQuantity": {"value": value, "unit": "mmol/L"},
    }


def allergy(id_: str, name: str, clinical: str, verification: str) -> dict:
    """An allergy of the sepsis patient with a clinical and a verification status."""
    return {
        "resourceType": "AllergyIntolerance",
        "id": id_,
        "patient": SUBJECT,
        "code": {"text": name},
        "clinicalStatus": {"coding": [{"system": ALLERGY_CLINICAL, "code": clinical}]},
        "verificationStatus": {"coding": [{"system": ALLERGY_VERIFICATION, "code": verification}]},
    }


def condition(id_: str, name: str, verification: str = "confirmed") -> dict:
    """An active problem of the sepsis patient with a verification status."""
    return {
        "resourceType": "Condition",
        "id": id_,
        "subject": SUBJECT,
        "code": {"text": name},
        "clinicalStatus": ACTIVE_CONDITION,
        "verificationStatus": {
            "coding": [{"system": CONDITION_VERIFICATION, "code": verification}]
        },
    }


def drafted(app, client) -> tuple[str, str]:
    """Draft a case from the launched encounter; return its path and vignette."""
    case = draft_case(client)
    return case, app.extensions["case_conferences"].case(case.rsplit("/", 1)[1]).vignette


def test_a_draft_leaves_out_what_the_record_withdrew(clubs_app, author):
    add(
        clubs_app,
        observation("withdrawn-potassium", "entered-in-error", "Potassium", 7.9),
        observation("withdrawn-troponin", "cancelled", "Troponin I", 2.5),
        allergy("withdrawn-penicillin", "Penicillin", "active", "refuted"),
        allergy("withdrawn-peanut", "Peanut", "active", "entered-in-error"),
        allergy("withdrawn-latex", "Latex", "inactive", "confirmed"),
        allergy("withdrawn-egg", "Egg protein", "resolved", "confirmed"),
        condition("withdrawn-embolism", "Pulmonary embolism", "refuted"),
    )
    _, vignette = drafted(clubs_app, author)
    for withdrawn in ("Potassium", "7.9", "Troponin", "Penicillin", "Peanut", "Latex", "Egg"):
        assert withdrawn not in vignette, withdrawn
    assert "Pulmonary embolism" not in vignette
    assert "Sulfamethoxazole" in vignette and "Lactate" in vignette  # what stands stays


def test_a_draft_of_a_long_record_fits_the_form_whole_lines_and_says_it_was_trimmed(
    clubs_app, author
):
    add(clubs_app, *(condition(f"long-{n}", LONG_PROBLEM.format(n)) for n in range(LONG_RECORD)))
    case, vignette = drafted(clubs_app, author)
    assert len(vignette) <= VIGNETTE_MAX
    assert vignette.rstrip().endswith("the record is longer than a teaching case can hold.")
    problems = [line for line in vignette.splitlines() if "Chronic problem" in line]
    assert 20 < len(problems) < LONG_RECORD
    whole = re.compile(r"- " + LONG_PROBLEM.replace("{}", r"\d+") + "$")
    assert all(whole.fullmatch(line) for line in problems)
    edit = get(author, case + "/edit")
    post(author, case + "/edit", edit, title="Urosepsis", vignette=vignette.replace("\n", "\r\n"))

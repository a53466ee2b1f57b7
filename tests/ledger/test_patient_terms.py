"""Free text that names the launched patient is refused: names, FHIR id, identifiers, birth date."""

from __future__ import annotations

import json

import pytest

from app.ledger.models import PatientDataRefused
from app.ledger.privacy import check_free_of_patient_data, identifying_terms
from app.settings import REPO_ROOT

BUNDLE = REPO_ROOT / "fhir_fixtures" / "patients" / "sepsis-adult-ed.json"


@pytest.fixture(scope="module")
def terms():
    """The sepsis fixture patient (Maeve Josephine Harlow, MRN SYN-SEP-000101, 1958-07-22)."""
    entries = json.loads(BUNDLE.read_text())["entry"]
    patient = next(e["resource"] for e in entries if e["resource"]["resourceType"] == "Patient")
    return identifying_terms(patient)


@pytest.mark.parametrize(
    "text",
    [
        "Maeve Harlow born 1961 MRN 12345",  # the reviewer's example
        "Should Harlow get a second bolus?",
        "maeve harlow: repeat lactate?",  # the full name in any case
        "chart of sepsis-adult",  # the FHIR id
        "MRN syn-sep-000101, lactate 3.1",  # the record number, any case
        "born 1958-07-22",
        "born 7/22/1958",
        "DOB 22/07/1958",
        "DOB 22.7.1958",
    ],
)
def test_text_naming_the_patient_is_refused(terms, text):
    with pytest.raises(PatientDataRefused, match="names the patient"):
        check_free_of_patient_data({"question": text}, "question", terms)


@pytest.mark.parametrize(
    "text",
    [
        "Should blood cultures come before the first antibiotic dose in sepsis?",
        "lactate rose to 4 after fluids",
        "Harlowe criteria?",  # a longer word is not the name
        "born in 1958?",  # a year alone is not a birth date
        "adult sepsis bundle timing",
    ],
)
def test_clinical_text_that_does_not_name_the_patient_is_accepted(terms, text):
    check_free_of_patient_data({"question": text}, "question", terms)


def test_without_a_launched_patient_only_the_patterns_apply():
    check_free_of_patient_data({"question": "Should Harlow get a second bolus?"}, "question")
    with pytest.raises(PatientDataRefused, match="record number"):
        check_free_of_patient_data({"question": "MRN 12345678"}, "question")


@pytest.mark.parametrize(
    "text",
    ["Should Li get a second bolus?", "Ng's lactate is 4", "repeat cultures for Wei Li"],
)
def test_a_two_letter_surname_or_given_name_is_refused(text):
    names = [{"given": ["Wei"], "family": "Li"}, {"given": ["Al"], "family": "Ng"}]
    terms = identifying_terms({"id": "p1", "name": names})
    with pytest.raises(PatientDataRefused, match="names the patient"):
        check_free_of_patient_data({"question": text}, "question", terms)


@pytest.mark.parametrize(
    "text",
    [
        "NG tube placed, lithium level 1.1",  # names match as written
        "He has sepsis; An elderly man; Do we repeat lactate? Le patient est fébrile.",
        "J. was seen by the ED team",  # a single letter is never a term
        "check p1 and p2 waves",  # a two-character id is no code
    ],
)
def test_short_ordinary_words_are_not_taken_for_names(text):
    names = [{"given": ["J", "Ed"], "family": "He"}, {"given": ["An", "Do"], "family": "Le"}]
    names += [{"given": ["Wei"], "family": "Li"}, {"family": "Ng"}]
    terms = identifying_terms({"id": "p1", "name": names})
    check_free_of_patient_data({"question": text}, "question", terms)


def test_an_ordinary_word_name_is_still_refused_as_the_full_name():
    terms = identifying_terms({"name": [{"given": ["An"], "family": "Le"}]})
    with pytest.raises(PatientDataRefused, match="names the patient"):
        check_free_of_patient_data("An Le needs a second bolus", "question", terms)


@pytest.mark.parametrize(
    "text",
    ["Mr Le needs a second bolus", "Mme Le est fébrile", "Sra. Do tiene fiebre", "seen by dr An"],
)
def test_an_ordinary_word_name_after_a_title_is_refused(text):
    terms = identifying_terms({"name": [{"given": ["An", "Do"], "family": "Le"}]})
    with pytest.raises(PatientDataRefused, match="names the patient"):
        check_free_of_patient_data({"question": text}, "question", terms)


@pytest.mark.parametrize(
    "text",
    [
        "Le patient est fébrile",
        "do not repeat the bolus",
        "an ECG before the dose",
        "Do we give an antibiotic? Ask Dr Leon",  # a longer word after a title is not the name
    ],
)
def test_ordinary_words_without_a_title_still_pass(text):
    terms = identifying_terms({"name": [{"given": ["An", "Do"], "family": "Le"}]})
    check_free_of_patient_data({"question": text}, "question", terms)

"""The launched patient is recognised however clinicians write the name and the birth date."""

from __future__ import annotations

import json
import time

import pytest

from app.ledger.models import PatientDataRefused
from app.ledger.privacy import check_free_of_patient_data, identifying_terms
from app.settings import REPO_ROOT

BUNDLE = REPO_ROOT / "fhir_fixtures" / "patients" / "sepsis-adult-ed.json"


@pytest.fixture(scope="module")
def harlow():
    """The sepsis fixture patient's terms (Maeve Josephine Harlow, born 1958-07-22)."""
    entries = json.loads(BUNDLE.read_text())["entry"]
    patient = next(e["resource"] for e in entries if e["resource"]["resourceType"] == "Patient")
    return identifying_terms(patient)


def refused(text: str, terms) -> bool:
    """Tell whether the guard refuses the text as naming the patient."""
    try:
        check_free_of_patient_data({"question": text}, "question", terms)
    except PatientDataRefused as refusal:
        assert "names the patient" in str(refusal)
        return True
    return False


@pytest.mark.parametrize(
    "text",
    [
        "Mrs HARLOW has lactate 4: cultures before ceftriaxone?",
        "HARLOW, MAEVE J in bay 4: lactate 4.1",  # the usual banner format
        "harlow: repeat lactate?",
        "Harlow's lactate is 4",
        "Harlow\u2019s lactate is 4",
        "MAEVE needs a second bolus",
    ],
)
def test_the_name_in_any_case_or_order_is_refused(harlow, text):
    assert refused(text, harlow)


@pytest.mark.parametrize(
    "text",
    [
        "Born 22 Jul 1958; lactate 4.1",
        "dob July 22, 1958 lactate 4.1",
        "DOB 22-JUL-58",
        "born the 22nd of July 1958",
        "DOB Jul. 22nd, '58",
        "Pt DOB 7/22/58, lactate 4.1",
        "DOB 22/07/58",
        "DOB 22.7.58",
        "nacida el 22 de julio de 1958",
        "née le 22 juillet 1958",
    ],
)
def test_the_birth_date_with_a_named_month_or_a_two_digit_year_is_refused(harlow, text):
    assert refused(text, harlow)


@pytest.mark.parametrize(
    "text",
    [
        "lactate rose to 4 after fluids; harlowe criteria?",
        "seen on 22 Jul 2024, repeat on July 22",
        "born in July 1958?",
        "BP 122/58, HR 110; 7/22/85 is another date",
    ],
)
def test_dates_and_words_near_the_patient_s_are_accepted(harlow, text):
    assert not refused(text, harlow)


def test_a_name_given_only_as_text_is_refused():
    terms = identifying_terms({"name": [{"text": "Maeve J. Harlow"}]})
    assert refused("Mrs HARLOW in bay 4", terms)
    assert refused("maeve needs a second bolus", terms)
    assert not refused("J. was seen by the ED team", terms)


def test_each_half_of_a_hyphenated_name_is_refused():
    terms = identifying_terms({"name": [{"given": ["Maeve"], "family": "Okafor-Harlow"}]})
    assert refused("Mrs HARLOW in bay 4", terms)
    assert refused("okafor-harlow, lactate 4", terms)


@pytest.fixture(scope="module")
def will_brown():
    """A patient whose names are ordinary words: Will May Brown, also Bill Rose."""
    names = [{"given": ["Will", "May"], "family": "Brown"}, {"given": ["Bill"], "family": "Rose"}]
    return identifying_terms({"id": "p1", "name": names})


@pytest.mark.parametrize(
    "text",
    [
        "Mr BROWN's lactate is 4",
        "BROWN, WILL in bay 2",
        "Brown, Will: lactate 4",
        "lactate 4 in Will Brown",
        "ask about May",
        "ROSE, BILL: second bolus?",
    ],
)
def test_a_name_that_is_an_ordinary_word_is_refused_as_names_are_written(will_brown, text):
    assert refused(text, will_brown)


def test_prose_using_those_words_in_lower_case_is_accepted(will_brown):
    text = (
        "Sputum turned brown, will repeat cultures; lactate may rise again, it rose to 4 "
        "after the first bolus and the bill for the panel came back"
    )
    assert not refused(text, will_brown)


def test_a_two_letter_name_after_a_title_is_refused_in_capitals_but_not_as_an_abbreviation():
    terms = identifying_terms({"name": [{"given": ["Wei"], "family": "Ng"}]})
    assert refused("MRS NG needs fluids", terms)
    assert not refused("NG tube placed, lactate 4", terms)


def test_a_long_text_of_near_dates_is_checked_in_one_pass(harlow):
    """About 300,000 characters of dates that almost match; a linear scan takes milliseconds."""
    started = time.perf_counter()
    assert not refused("22 July 19 22-Jul-195 " * 14_000, harlow)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    ("name", "prose"),
    [
        ({"given": ["Theo"], "family": "Marsh"}, "Is a theo level still worth checking in asthma?"),
        ({"given": ["Aki"], "family": "Tanaka"}, "AKI after contrast: hold metformin?"),
        ({"given": ["Ana"], "family": "Ruiz"}, "ANA 1:160, speckled"),
        ({"given": ["Uri"], "family": "Levi"}, "Viral URI: no antibiotic"),
        ({"given": ["José"], "family": "de los Santos"}, "¿Cultivos en los pacientes con sepsis?"),
        ({"given": ["Wim"], "family": "van der Berg"}, "Switch from IV to oral van day 3"),
        ({"text": "Mr. Gordon A. Pryce Jr."}, "Mr Jones in bed 2 has the same question"),
        ({"text": "Mr. Gordon A. Pryce III"}, "NYHA class III on a beta blocker"),
        ({"given": ["Will"], "family": "Still"}, "still febrile, will repeat cultures"),
    ],
)
def test_clinical_prose_that_shares_a_word_with_a_short_or_compound_name_is_accepted(name, prose):
    assert not refused(prose, identifying_terms({"name": [name]}))


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ({"given": ["Theo"], "family": "Marsh"}, "Theo Marsh has wheeze"),
        ({"given": ["Theo"], "family": "Marsh"}, "MARSH, THEO"),
        ({"given": ["Aki"], "family": "Tanaka"}, "Mrs AKI: creatinine up"),
        ({"given": ["José"], "family": "de los Santos"}, "Sr. de los Santos tiene fiebre"),
        ({"text": "Mr. Gordon A. Pryce Jr."}, "pryce: lactate 4"),
    ],
)
def test_the_same_names_written_as_names_are_refused(name, written):
    assert refused(written, identifying_terms({"name": [name]}))


@pytest.mark.parametrize("count", ["July 22, 58 mL/kg given?", "Jul 22, 58 patients seen"])
def test_a_count_after_the_birth_day_and_month_is_not_a_two_digit_year(harlow, count):
    assert not refused(count, harlow)
    assert refused("Born July 22, '58", harlow)

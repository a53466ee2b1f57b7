"""Safe Harbor de-identification: a test per kind of identifier, a property over planted ones."""

from __future__ import annotations

import copy
import json
import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.case_conferences.deidentify import (
    age_group,
    record_identifiers,
    relative_day,
    scrub_text,
    state_of,
)
from app.case_conferences.vignette import draft_vignette, message_ids
from app.settings import REPO_ROOT
from app.ui.conference_views import VIGNETTE_TEXTS

PATIENTS = sorted((REPO_ROOT / "fhir_fixtures" / "patients").glob("*.json"))
DAY0 = date(2026, 3, 10)
PATIENT = {
    "resourceType": "Patient",
    "id": "pt-4471",
    "identifier": [
        {"type": {"text": "MRN"}, "value": "MRN-8812345"},
        {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "123-45-6789"},
        {"type": {"text": "Health plan"}, "value": "HP99812Z"},
    ],
    "name": [{"family": "Quillfeather", "given": ["Ottoline", "Rue"], "text": "Ottoline Rue"}],
    "telecom": [
        {"system": "phone", "value": "(503) 555-0142"},
        {"system": "fax", "value": "503-555-0199"},
        {"system": "email", "value": "ottoline.q@example.org"},
    ],
    "address": [
        {
            "line": ["1427 Larkspur Lane", "Apt 6"],
            "city": "Hood River",
            "district": "Wasco County",
            "state": "Oregon",
            "postalCode": "97031-2210",
        }
    ],
    "birthDate": "1931-02-14",
    "gender": "female",
    "contact": [
        {"name": {"family": "Brightwater", "given": ["Ansel"]}},
        {"name": {"family": "Li", "given": ["Wu"]}},
        {"name": {"family": "Ng", "given": ["Ho"]}},
    ],
}
DEVICE = {
    "resourceType": "Device",
    "id": "dev-1",
    "serialNumber": "PMK-77120-B",
    "udiCarrier": [{"deviceIdentifier": "00844588003288"}],
}
KNOWN = record_identifiers([PATIENT, DEVICE])


def scrubbed(text: str) -> str:
    """A text scrubbed with the test patient's identifiers."""
    return scrub_text(text, KNOWN, DAY0)


@pytest.mark.parametrize(
    "name", ["Quillfeather", "Ottoline", "Ottoline Rue", "OTTOLINE QUILLFEATHER", "Brightwater"]
)
def test_names_of_the_patient_and_relatives_are_removed(name):
    assert name.casefold() not in scrubbed(f"Seen with {name} today.").casefold()


@pytest.mark.parametrize("name", ["Li", "Wu", "Ng", "Ho", "LI", "ng"])
def test_two_letter_names_are_removed_as_whole_words(name):
    out = scrubbed(f"Mrs {name} reported chills; seen with {name}.")
    assert not re.search(rf"\b{name}\b", out, re.IGNORECASE), out
    assert scrubbed("Lithium level, hours of chills") == "Lithium level, hours of chills"


@pytest.mark.parametrize(
    "written",
    [
        "March 2024",
        "Mar. 2024",
        "march, 2024",
        "marzo de 2024",
        "septiembre 2023",
        "dic. 2022",
        "03/2023",
        "3/2023",
        "12/1999",
    ],
)
def test_a_month_with_its_year_is_removed(written):
    out = scrubbed(f"First seen {written}, then again.")
    assert out == "First seen [date], then again.", out


@pytest.mark.parametrize("number", ["555-1234", "call 555-1234.", "(555-1234)"])
def test_a_local_seven_digit_phone_number_is_removed(number):
    assert "555-1234" not in scrubbed(f"Daughter: {number}")


@pytest.mark.parametrize(
    "place", ["1427 Larkspur Lane", "Hood River", "Wasco County", "97031", "97031-2210", "Apt 6"]
)
def test_geography_below_the_state_is_removed_and_the_state_kept(place):
    assert place not in scrubbed(f"Lives at {place}.")
    assert state_of(PATIENT) == "Oregon"


@pytest.mark.parametrize(
    ("written", "relative"),
    [
        ("2026-03-12", "day 2"),
        ("2026-03-08T09:30:00Z", "day -2"),
        ("03/11/2026", "day 1"),
        ("3/10/26", "day 0"),
    ],
)
def test_exact_dates_become_relative_days(written, relative):
    assert scrubbed(f"Admitted {written}, seen again.") == f"Admitted {relative}, seen again."


@pytest.mark.parametrize("written", ["February 14, 1931", "14 Feb 1931", "Feb. 14th", "2/14/1931"])
def test_birth_dates_and_named_dates_leave_no_day_or_month(written):
    out = scrubbed(f"Born {written}.")
    assert "14" not in out and "Feb" not in out


def test_ages_over_89_are_grouped():
    assert age_group(date(1931, 2, 14), DAY0) == "90 or older"
    assert age_group(date(1936, 3, 11), DAY0) == "89"
    assert age_group(date(1936, 3, 10), DAY0) == "90 or older"
    assert age_group(date(2022, 3, 11), DAY0) == "3"


@pytest.mark.parametrize(
    "identifier",
    [
        "(503) 555-0142",  # phone
        "503-555-0199",  # fax
        "+1 415 555 0100",  # a phone the record does not hold
        "ottoline.q@example.org",  # e-mail
        "someone.else@clinic.example",
        "123-45-6789",  # social security number
        "987-65-4321",
        "MRN-8812345",  # medical record number
        "HP99812Z",  # health plan beneficiary number
        "ACCT-0045521",  # account number
        "LIC-CA-A123456",  # licence number
        "1HGCM82633A004352",  # vehicle identifier
        "PMK-77120-B",  # device serial number
        "00844588003288",  # device identifier (UDI)
        "https://portal.example.org/patients/4471",  # URL
        "www.example.org/ottoline",
        "192.168.10.24",  # IP address
        "pt-4471",  # the record's own id
    ],
)
def test_numbers_contacts_and_addresses_on_the_net_are_removed(identifier):
    assert identifier not in scrubbed(f"Note: {identifier} (see chart).")


def test_clinical_numbers_and_words_are_kept():
    text = "Lactate 3.1 mmol/L, WBC 17.4 10*3/uL, eGFR 48 mL/min/{1.73_m2}, 3 days of dysuria"
    assert scrubbed(text) == text


def test_relative_days_count_from_day_0():
    assert relative_day(date(2026, 3, 7), DAY0) == "day -3"


@pytest.mark.parametrize("path", PATIENTS, ids=lambda p: p.stem)
def test_the_fixture_patients_vignettes_hold_none_of_their_identifiers(path):
    resources = [entry["resource"] for entry in json.loads(path.read_text())["entry"]]
    vignette = draft_vignette(resources)
    for term in record_identifiers(resources).terms:
        assert term.casefold() not in vignette.casefold(), term
    assert "day 0" in vignette


def test_the_vignette_groups_an_old_patients_age_and_names_only_the_state():
    encounter = {"resourceType": "Encounter", "period": {"start": "2026-03-10T08:00:00Z"}}
    vignette = draft_vignette([PATIENT, encounter])
    assert vignette.startswith(
        "A woman aged 90 or older from Oregon. Day 0 is the day of the encounter."
    )
    without_encounter = draft_vignette(
        [PATIENT, {"resourceType": "Condition", "onsetDateTime": "2026-01-02"}]
    )
    assert "Day 0 is the earliest date in the record." in without_encounter
    assert "(day 0)" in without_encounter


IDENTIFIERS = sorted(
    KNOWN.terms
    | {"someone@example.net", "555-123-4567", "2025-12-24", "555-1234", "March 2024", "03/2023"}
    | {"marzo de 2024"}
)
FILLER = st.text(alphabet="abcdefghij klmnop,.;:()\n", max_size=30)


@settings(max_examples=150, deadline=None)
@given(
    planted=st.lists(st.sampled_from(IDENTIFIERS), min_size=1, max_size=4),
    filler=st.lists(FILLER, min_size=5, max_size=5),
    where=st.sampled_from(["reason", "condition", "observation", "note", "medication"]),
)
def test_identifiers_planted_anywhere_never_come_out(planted, filler, where):
    text = filler[0] + " " + " ".join(f"{p} {f}" for p, f in zip(planted, filler[1:], strict=False))
    resources = planted_resources(text, where)
    vignette = draft_vignette(resources)
    for identifier in planted:
        assert not came_out(identifier, vignette), identifier
    assert "2025-12-24" not in vignette and "12/24" not in vignette


def came_out(term: str, text: str) -> bool:
    """Whether a term is in the text: anywhere, or as a word when short (Li hides in Lithium)."""
    if len(term) >= 4:
        return term.casefold() in text.casefold()
    return bool(re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", text, re.IGNORECASE))


def planted_resources(text: str, where: str) -> list[dict]:
    """The test patient, an encounter and one resource whose text carries the planted words."""
    encounter = {
        "resourceType": "Encounter",
        "id": "enc-1",
        "period": {"start": "2026-03-10T08:00:00Z"},
        "reasonCode": [{"text": text if where == "reason" else "Fever"}],
    }
    concept = {"text": text, "coding": [{"display": "Finding"}]}
    kinds = {
        "condition": {"resourceType": "Condition", "code": concept},
        "observation": {
            "resourceType": "Observation",
            "code": concept,
            "valueQuantity": {"value": 3.1, "unit": text[:10]},
        },
        "medication": {"resourceType": "MedicationRequest", "medicationCodeableConcept": concept},
        "note": {"resourceType": "AllergyIntolerance", "code": {"text": text}},
    }
    extra = [copy.deepcopy(kinds[where])] if where in kinds else []
    return [PATIENT, DEVICE, encounter, *extra]


def test_every_fixture_patient_is_scanned():
    assert [path.stem for path in PATIENTS] == ["hfref-adult", "sepsis-adult-ed", "uri-child"]


def test_every_vignette_template_is_marked_for_translation():
    assert {marker._args[0] for marker in VIGNETTE_TEXTS} == message_ids()


def test_the_vignette_is_written_through_the_translation_it_is_given():
    encounter = {"resourceType": "Encounter", "period": {"start": "2026-03-10T08:00:00Z"}}
    condition = {"resourceType": "Condition", "onsetDateTime": "2026-03-12", "code": {}}
    vignette = draft_vignette([PATIENT, encounter, condition], lambda text: f"<{text}>")
    assert vignette.startswith(
        "<{who} from {state}.>".format(who="<A woman aged 90 or older>", state="Oregon")
    )
    assert "<Day 0 is the day of the encounter.>" in vignette and "**<Problems>**" in vignette
    assert "- <(not named)> (<day 2>)" in vignette


@pytest.mark.parametrize(
    ("written", "grouped"),
    [
        ("A 94-year-old woman", "A 90 or older woman"),
        ("94 years old", "90 or older"),
        ("aged 94, lactate 4", "aged 90 or older, lactate 4"),
        ("94 y/o F", "90 or older F"),
        ("92yo", "90 or older"),
        ("Edad de 95 años", "Edad de 90 or older"),
        ("aged 94 years, lactate 4", "aged 90 or older, lactate 4"),
        ("tiene 96 años", "tiene 90 or older"),
        ("94 y.o female", "90 or older female"),
        ("first described 100 years ago", "first described 100 years ago"),
        ("hace 95 años", "hace 95 años"),
        ("a 45-year-old man", "a 45-year-old man"),
        ("age 89", "age 89"),
        ("10 years of diabetes", "10 years of diabetes"),
        ("HbA1c 9.94 years ago", "HbA1c 9.94 years ago"),
    ],
)
def test_ages_over_89_written_in_the_text_are_grouped(written, grouped):
    assert scrubbed(written) == grouped


def test_a_name_given_only_as_text_is_removed_word_by_word_but_not_its_title():
    known = record_identifiers(
        [{"resourceType": "Patient", "id": "pt-7", "name": [{"text": "Mrs. Maeve J. Harlow"}]}]
    )
    out = scrub_text("Harlow found by daughter; Maeve confused. Mrs Smith visited.", known, DAY0)
    assert out == "[removed] found by daughter; [removed] confused. Mrs Smith visited."

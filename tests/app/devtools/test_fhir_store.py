"""FixtureStore: loading fixture Bundles and FHIR R4 search semantics, as specifications."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from app.devtools.fhir_store import (
    FixtureError,
    FixtureStore,
    InvalidSearchValue,
    SearchError,
    UnsupportedSearch,
    parse_date_range,
)

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
STAMP = "2024-03-10T12:00:00Z"


def write_bundle(directory, name, resources, timestamp=STAMP):
    """Write a collection Bundle of `resources` to directory/name."""
    directory.mkdir(parents=True, exist_ok=True)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timestamp,
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }
    (directory / name).write_text(json.dumps(bundle), encoding="utf-8")


def cc(system, code):
    """A one-coding CodeableConcept."""
    coding = {"code": code} if system is None else {"system": system, "code": code}
    return {"coding": [coding]}


def observation(id_, code, *, patient="p1", status="final", category="laboratory", **when):
    """An Observation for `patient` with a LOINC (or given) code."""
    system, code = code if isinstance(code, tuple) else (LOINC, code)
    return {
        "resourceType": "Observation",
        "id": id_,
        "status": status,
        "category": [cc(OBS_CATEGORY, category)],
        "code": cc(system, code),
        "subject": {"reference": f"Patient/{patient}"},
        **when,
    }


def condition(id_, code, clinical, category, onset):
    """A Condition for p1."""
    return {
        "resourceType": "Condition",
        "id": id_,
        "clinicalStatus": cc(CLINICAL, clinical),
        "category": [cc("http://terminology.hl7.org/CodeSystem/condition-category", category)],
        "code": cc(SNOMED, code),
        "subject": {"reference": "Patient/p1"},
        "onsetDateTime": onset,
    }


def sample_resources():
    """A small sepsis story for p1 plus a bystander patient p2."""
    period = {"start": "2024-03-10T10:00:00Z", "end": "2024-03-10T10:30:00Z"}
    return [
        {"resourceType": "Patient", "id": "p1", "birthDate": "1960-05-01"},
        {"resourceType": "Patient", "id": "p2", "birthDate": "1990-01-01"},
        observation("lactate", "2524-7", effectiveDateTime="2024-03-10T11:20:00Z"),
        observation("wbc", "6690-2", effectiveDateTime="2024-03-09T08:00:00-05:00"),
        observation(
            "hr", "8867-4", status="preliminary", category="vital-signs", effectivePeriod=period
        ),
        observation("local", (None, "LOCAL1"), effectiveDateTime="2024-02"),
        observation("nodate", ("http://example.org/codes", "2524-7"), status="cancelled"),
        observation("p2-lactate", "2524-7", patient="p2", effectiveDateTime="2024-03-10T09:00Z"),
        condition("sepsis", "91302008", "active", "encounter-diagnosis", "2024-03-10T06:00:00Z"),
        condition("old-mi", "22298006", "resolved", "problem-list-item", "2019"),
        {
            "resourceType": "MedicationRequest",
            "id": "vanco",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": cc(RXNORM, "11124"),
            "subject": {"reference": "Patient/p1"},
            "authoredOn": "2024-03-10T11:00:00Z",
        },
        {
            "resourceType": "AllergyIntolerance",
            "id": "pcn",
            "clinicalStatus": cc(CLINICAL.replace("condition", "allergyintolerance"), "active"),
            "code": cc(RXNORM, "7980"),
            "patient": {"reference": "Patient/p1"},
            "recordedDate": "2020-06-01",
        },
        {
            "resourceType": "Encounter",
            "id": "enc",
            "status": "in-progress",
            "subject": {"reference": "Patient/p1"},
            "period": {"start": "2024-03-10T05:30:00Z"},
        },
    ]


@pytest.fixture
def store(tmp_path):
    """A store loaded from one sample Bundle, served as stored."""
    write_bundle(tmp_path / "patients", "sepsis.json", sample_resources())
    return FixtureStore.from_directory(tmp_path / "patients")


def ids(resources):
    """The ids of resources, as a set."""
    return {r["id"] for r in resources}


def test_read_returns_the_resource_or_none(store):
    assert store.read("Patient", "p1")["birthDate"] == "1960-05-01"
    assert store.read("Patient", "nobody") is None
    assert store.read("Nonsense", "p1") is None


def test_resource_types_are_the_types_present(store):
    assert store.resource_types == {
        "Patient",
        "Observation",
        "Condition",
        "MedicationRequest",
        "AllergyIntolerance",
        "Encounter",
    }


def test_results_are_copies_so_callers_cannot_corrupt_the_store(store):
    store.read("Patient", "p1")["birthDate"] = "2000-01-01"
    store.search("Patient", [])[0]["id"] = "changed"
    assert store.read("Patient", "p1")["birthDate"] == "1960-05-01"
    assert ids(store.search("Patient", [])) == {"p1", "p2"}


def test_bundles_are_loaded_recursively(tmp_path):
    write_bundle(tmp_path / "a", "one.json", [{"resourceType": "Patient", "id": "x"}])
    write_bundle(tmp_path / "a" / "deeper", "two.json", [{"resourceType": "Patient", "id": "y"}])
    assert ids(FixtureStore.from_directory(tmp_path).search("Patient", [])) == {"x", "y"}


def test_identical_duplicates_across_bundles_are_served_once(tmp_path):
    shared = {"resourceType": "Practitioner", "id": "dr", "name": [{"family": "Who"}]}
    write_bundle(tmp_path, "a.json", [shared])
    write_bundle(tmp_path, "b.json", [shared])
    assert len(FixtureStore.from_directory(tmp_path).search("Practitioner", [])) == 1


def test_conflicting_duplicate_ids_are_a_clear_error(tmp_path):
    write_bundle(tmp_path, "a.json", [{"resourceType": "Patient", "id": "p", "gender": "male"}])
    write_bundle(tmp_path, "b.json", [{"resourceType": "Patient", "id": "p", "gender": "female"}])
    with pytest.raises(
        FixtureError, match=r"Patient/p is defined differently in .*a\.json.*b\.json"
    ):
        FixtureStore.from_directory(tmp_path)


def test_a_file_that_is_not_a_bundle_is_a_clear_error(tmp_path):
    (tmp_path / "bad.json").write_text('{"resourceType": "Patient", "id": "p"}', encoding="utf-8")
    with pytest.raises(FixtureError, match="not a FHIR Bundle"):
        FixtureStore.from_directory(tmp_path)


def test_a_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FixtureError, match="does not exist"):
        FixtureStore.from_directory(tmp_path / "nope")


@pytest.mark.parametrize(
    "param",
    [
        ("patient", "p1"),
        ("patient", "Patient/p1"),
        ("subject", "Patient/p1"),
        ("subject", "p1"),
        ("patient", "http://ehr.example/fhir/Patient/p1"),
    ],
)
def test_patient_and_subject_accept_bare_ids_and_references(store, param):
    assert ids(store.search("Observation", [param])) == {"lactate", "wbc", "hr", "local", "nodate"}


def test_patient_search_matches_no_other_patients_resources(store):
    assert ids(store.search("Observation", [("patient", "p2")])) == {"p2-lactate"}
    assert store.search("Observation", [("patient", "Group/p1")]) == []


def test_allergy_intolerance_is_searched_by_patient_only(store):
    assert ids(store.search("AllergyIntolerance", [("patient", "p1")])) == {"pcn"}
    with pytest.raises(UnsupportedSearch) as raised:
        store.search("AllergyIntolerance", [("subject", "p1")])
    assert raised.value.param == "subject"


def test_patients_are_searched_by_id(store):
    assert ids(store.search("Patient", [("_id", "p2")])) == {"p2"}
    with pytest.raises(UnsupportedSearch):
        store.search("Patient", [("patient", "p1")])


def test_status_matches_and_commas_mean_or(store):
    assert ids(store.search("Observation", [("status", "preliminary")])) == {"hr"}
    found = store.search("Observation", [("patient", "p1"), ("status", "preliminary,cancelled")])
    assert ids(found) == {"hr", "nodate"}


def test_clinical_status_matches_the_coding_code(store):
    assert ids(store.search("Condition", [("clinical-status", "active")])) == {"sepsis"}
    assert ids(store.search("AllergyIntolerance", [("clinical-status", "active")])) == {"pcn"}
    resolved = f"{CLINICAL}|resolved"
    assert ids(store.search("Condition", [("clinical-status", resolved)])) == {"old-mi"}


def test_category_matches_code_or_system_and_code(store):
    assert ids(store.search("Observation", [("category", "vital-signs")])) == {"hr"}
    both = [("category", f"{OBS_CATEGORY}|laboratory"), ("patient", "p1")]
    assert ids(store.search("Observation", both)) == {"lactate", "wbc", "local", "nodate"}
    assert ids(store.search("Condition", [("category", "problem-list-item")])) == {"old-mi"}


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("2524-7", {"lactate", "nodate", "p2-lactate"}),
        (f"{LOINC}|2524-7", {"lactate", "p2-lactate"}),
        ("|LOCAL1", {"local"}),
        ("|2524-7", set()),
        ("http://example.org/codes|", {"nodate"}),
        (f"{LOINC}|6690-2,{LOINC}|8867-4", {"wbc", "hr"}),
    ],
)
def test_code_supports_all_four_token_forms_and_comma_or(store, token, expected):
    assert ids(store.search("Observation", [("code", token)])) == expected


def test_medication_request_code_reads_the_medication_codeable_concept(store):
    assert ids(store.search("MedicationRequest", [("code", f"{RXNORM}|11124")])) == {"vanco"}


def test_repeated_parameters_and_together(store):
    params = [("code", "2524-7"), ("patient", "p1"), ("status", "final")]
    assert ids(store.search("Observation", params)) == {"lactate"}


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2024-03-10", {"lactate", "hr"}),
        ("eq2024-03", {"lactate", "hr", "wbc"}),
        ("2024", {"lactate", "hr", "wbc", "local"}),
        ("ge2024-03-10", {"lactate", "hr"}),
        ("gt2024-03-09", {"lactate", "hr"}),
        ("le2024-03-09", {"wbc", "local"}),
        ("lt2024-03", {"local"}),
        ("ne2024-03", {"local"}),
        ("lt2024-03-09T13:00:00Z", {"local"}),
        ("le2024-03-09T13:00:00Z", {"wbc", "local"}),
        ("gt2024-03-10T10:30:00Z", {"lactate"}),
        ("ge2024-03-10T06:00:00-05:00", {"lactate"}),
    ],
)
def test_date_prefixes_compare_implicit_ranges(store, date, expected):
    assert ids(store.search("Observation", [("patient", "p1"), ("date", date)])) == expected


def test_two_date_parameters_form_a_window(store):
    window = [("patient", "p1"), ("date", "ge2024-03-09"), ("date", "lt2024-03-10")]
    assert ids(store.search("Observation", window)) == {"wbc"}


def test_each_type_searches_its_own_date_element(store):
    assert ids(store.search("Condition", [("onset-date", "lt2020")])) == {"old-mi"}
    assert ids(store.search("MedicationRequest", [("authoredon", "2024-03-10")])) == {"vanco"}
    assert ids(store.search("AllergyIntolerance", [("date", "2020-06")])) == {"pcn"}
    assert ids(store.search("Encounter", [("date", "ge2030")])) == {"enc"}  # open-ended period


def test_sort_by_descending_date_puts_missing_dates_last(store):
    found = store.search("Observation", [("patient", "p1"), ("_sort", "-date")])
    assert [r["id"] for r in found] == ["lactate", "hr", "wbc", "local", "nodate"]


def test_sort_ties_are_broken_by_id(tmp_path):
    same = "2024-03-10T11:00:00Z"
    obs = [observation(i, "2524-7", effectiveDateTime=same) for i in ("c", "a", "b")]
    write_bundle(tmp_path, "ties.json", [*obs, observation("z", "2524-7")])
    store = FixtureStore.from_directory(tmp_path)
    for key in ("date", "-date"):
        assert [r["id"] for r in store.search("Observation", [("_sort", key)])] == list("abcz")


def test_medication_requests_sort_by_authoredon(store):
    assert store.search("MedicationRequest", [("_sort", "-authoredon")])[0]["id"] == "vanco"


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ([("identifier", "x")], "identifier"),
        ([("code:text", "lactate")], "code:text"),
        ([("_include", "Observation:subject")], "_include"),
        ([("_sort", "code")], "_sort"),
        ([("date", "ap2024-03-10")], "date"),
    ],
)
def test_unsupported_parameters_raise_unsupported_search_naming_them(store, params, named):
    with pytest.raises(UnsupportedSearch) as raised:
        store.search("Observation", params)
    assert raised.value.param == named


@pytest.mark.parametrize("bad", ["yesterday", "2024-13-01", "2024-03-10T25:00:00Z", "ge"])
def test_malformed_dates_raise_invalid_search_value(store, bad):
    with pytest.raises(InvalidSearchValue) as raised:
        store.search("Observation", [("date", bad)])
    assert raised.value.param == "date"
    assert isinstance(raised.value, SearchError)


def test_result_shaping_and_empty_parameters_are_ignored(store):
    params = [("_count", "1"), ("_format", "json"), ("_pretty", "true"), ("status", "")]
    assert len(store.search("Observation", params)) == 6


def test_partial_dates_have_calendar_ranges():
    assert parse_date_range("2024-02") == (
        datetime(2024, 2, 1, tzinfo=UTC),
        datetime(2024, 3, 1, tzinfo=UTC),
    )
    assert parse_date_range("2024-12")[1] == datetime(2025, 1, 1, tzinfo=UTC)
    start, end = parse_date_range("2024-03-10T11:20:00.5+01:00")
    assert end - start == timedelta(milliseconds=100)


def test_time_shift_moves_times_relative_to_now_and_leaves_dates_alone(tmp_path):
    write_bundle(tmp_path, "sepsis.json", sample_resources())
    now = datetime(2031, 7, 1, 9, 30, tzinfo=UTC)
    store = FixtureStore.from_directory(tmp_path, now=now)
    lactate = store.read("Observation", "lactate")["effectiveDateTime"]
    assert datetime.fromisoformat(lactate) == now - timedelta(minutes=40)
    assert store.read("Patient", "p1")["birthDate"] == "1960-05-01"
    assert store.read("AllergyIntolerance", "pcn")["recordedDate"] == "2020-06-01"
    assert store.read("Observation", "local")["effectiveDateTime"] == "2024-02"
    assert store.read("Condition", "old-mi")["onsetDateTime"] == "2019"


def test_time_shift_keeps_each_values_offset_and_precision(tmp_path):
    write_bundle(tmp_path, "sepsis.json", sample_resources())
    now = datetime(2024, 3, 11, 12, 0, tzinfo=UTC)  # exactly one day later
    store = FixtureStore.from_directory(tmp_path, now=now)
    assert store.read("Observation", "wbc")["effectiveDateTime"] == "2024-03-10T08:00:00-05:00"
    assert store.read("Observation", "p2-lactate")["effectiveDateTime"] == "2024-03-11T09:00Z"
    assert store.read("Observation", "hr")["effectivePeriod"]["end"] == "2024-03-11T10:30:00Z"
    found = store.search("Observation", [("date", "2024-03-11"), ("patient", "p1")])
    assert ids(found) == {"lactate", "hr"}


def test_without_now_data_is_served_as_stored(store):
    assert store.read("Observation", "lactate")["effectiveDateTime"] == "2024-03-10T11:20:00Z"


def test_time_shift_needs_a_bundle_timestamp(tmp_path):
    write_bundle(tmp_path, "a.json", [{"resourceType": "Patient", "id": "p"}], timestamp=None)
    assert FixtureStore.from_directory(tmp_path).read("Patient", "p") is not None
    with pytest.raises(FixtureError, match="timestamp"):
        FixtureStore.from_directory(tmp_path, now=datetime.now(UTC))

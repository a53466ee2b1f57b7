"""The checker on measure-only value sets (content/measures/valuesets): the library's value set
checks (codes, identity, FHIR shape), URLs unique across both folders, and not for modules."""

from __future__ import annotations

import pytest

from app.library.check import check_library
from tests.library.helpers import (
    MEASURE_VALUE_SETS,
    MODULE_FILE,
    SEPSIS_FILE,
    TODAY,
    assert_fails,
    finding_at,
    good_measure_value_sets,
    good_module,
    good_value_sets,
    listing,
    run_measure_check,
    write_library,
    write_measures,
)

BLOOD_CULTURE_FILE = f"{MEASURE_VALUE_SETS}/blood-culture.json"
ANTIBIOTICS_FILE = f"{MEASURE_VALUE_SETS}/antibiotics.json"
COMFORT_CARE_FILE = f"{MEASURE_VALUE_SETS}/comfort-care.json"


def test_measure_only_value_sets_are_not_for_modules(tmp_path):
    module = good_module()
    module["case"]["patient_facts"] = ["https://fhir.bedside.example/ValueSet/comfort-care"]
    content = write_measures(write_library(tmp_path, [module]))
    report = check_library(content, today=TODAY)
    assert_fails(report, MODULE_FILE, "case.patient_facts[0]", "no value set with URL")


# codes of measure-only value sets: the library's value set checks


def break_code(include: int, concept: int, code: str, value_set: int) -> list[dict]:
    """The good measure-only value sets with one code replaced."""
    value_sets = good_measure_value_sets()
    value_sets[value_set]["compose"]["include"][include]["concept"][concept]["code"] = code
    return value_sets


@pytest.mark.parametrize(
    ("value_set", "file", "code", "text"),
    [
        (0, BLOOD_CULTURE_FILE, "600-8", "wrong check digit"),
        (1, ANTIBIOTICS_FILE, "RX723", "must be 1 to 8 digits"),
        (2, COMFORT_CARE_FILE, "183919007", "Verhoeff"),
    ],
)
def test_bad_codes_in_measure_only_value_sets(tmp_path, value_set, file, code, text):
    report = run_measure_check(tmp_path, measure_value_sets=break_code(0, 0, code, value_set))
    assert_fails(report, file, "compose.include[0].concept[0].code", text)


def test_icd10cm_code_that_does_not_exist_in_a_measure_only_value_set(tmp_path):
    value_sets = good_measure_value_sets()
    value_sets[2]["compose"]["include"].append(
        {
            "system": "http://hl7.org/fhir/sid/icd-10-cm",
            "concept": [{"code": "Z51.99", "display": "x"}],
        }
    )
    report = run_measure_check(tmp_path, measure_value_sets=value_sets)
    field = "compose.include[1].concept[0].code"
    assert_fails(report, COMFORT_CARE_FILE, field, "'Z51.99' does not exist")


def test_measure_only_value_set_url_and_shape(tmp_path):
    value_sets = good_measure_value_sets()
    value_sets[0]["url"] = "https://fhir.bedside.example/ValueSet/blood"
    value_sets[1]["status"] = ["draft"]
    report = run_measure_check(tmp_path, measure_value_sets=value_sets)
    assert_fails(
        report,
        BLOOD_CULTURE_FILE,
        "url",
        "must be https://fhir.bedside.example/ValueSet/blood-culture",
    )
    finding_at(report, ANTIBIOTICS_FILE, "status", "not a valid FHIR R4 ValueSet")


def test_measure_only_value_set_may_not_repeat_a_library_one(tmp_path):
    sepsis = good_value_sets()[0]
    report = run_measure_check(tmp_path, measure_value_sets=[*good_measure_value_sets(), sepsis])
    file = f"{MEASURE_VALUE_SETS}/sepsis.json"
    assert_fails(report, file, "url", f"is also used by {SEPSIS_FILE}")


def test_unreadable_measure_only_value_set(tmp_path):
    content = write_measures(write_library(tmp_path))
    (content / "measures" / "valuesets" / "broken.json").write_text("{not json", "utf-8")
    report = check_library(content, today=TODAY)
    assert_fails(report, f"{MEASURE_VALUE_SETS}/broken.json", "(file)", "cannot be read as JSON")


def test_unused_measure_only_value_set_is_info(tmp_path):
    value_sets = good_measure_value_sets()
    value_sets.append(
        {**value_sets[0], "id": "spare", "url": "https://fhir.bedside.example/ValueSet/spare"}
    )
    report = run_measure_check(tmp_path, measure_value_sets=value_sets)
    assert report.ok, listing(report)
    finding_at(
        report, f"{MEASURE_VALUE_SETS}/spare.json", "url", "no module or measure uses", "info"
    )

"""The content checker against a corpus of broken modules, each failing with file and field."""

from __future__ import annotations

import pytest

from app.library.check import ContentDirError, check_library
from tests.library.helpers import (
    LACTATE_FILE,
    MODULE_FILE,
    SEPSIS_FILE,
    TODAY,
    assert_fails,
    finding_at,
    good_module,
    good_value_sets,
    listing,
    run_check,
    write_library,
)


def test_the_good_corpus_passes_without_errors_or_warnings(tmp_path):
    report = run_check(tmp_path)
    assert report.ok, listing(report)
    assert [f for f in report.findings if f.severity != "info"] == [], listing(report)
    assert (report.modules, report.value_sets) == (1, 2)
    # infos: the draft count and the two item-writing figures
    assert report.summary() == "1 module, 2 value sets, 0 measures: 0 errors, 0 warnings, 3 infos"


def test_drafts_are_counted_as_info(tmp_path):
    report = run_check(tmp_path)
    finding = finding_at(report, "content/modules", "editorial.status", "1 of 1 modules", "info")
    assert "draft" in finding.message


# 1. schema


def test_missing_card_fails_the_schema(tmp_path):
    module = good_module()
    del module["card"]
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "card", "required")


def test_every_schema_error_is_reported_not_just_the_first(tmp_path):
    module = good_module()
    del module["card"]
    module["estimated_minutes"] = 90
    module["colour"] = "blue"
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "card", "required")
    finding_at(report, MODULE_FILE, "estimated_minutes", "90 is greater than the maximum")
    finding_at(report, MODULE_FILE, "(top level)", "'colour' was unexpected")


def test_an_unreadable_file_does_not_stop_the_others(tmp_path):
    content = write_library(tmp_path)
    (content / "modules" / "broken.yaml").write_text("id: [unclosed\n", "utf-8")
    (content / "valuesets" / "broken.json").write_text("{not json", "utf-8")
    report = check_library(content, today=TODAY)
    assert_fails(report, "content/modules/broken.yaml", "(file)", "cannot be read as YAML")
    finding_at(report, "content/valuesets/broken.json", "(file)", "cannot be read as JSON")
    assert report.modules == 2
    assert not [f for f in report.findings if f.file == MODULE_FILE and f.severity == "error"]


def test_checks_keep_running_on_a_schema_invalid_module(tmp_path):
    module = good_module()
    del module["guideline"]
    module["case"]["questions"][0]["rationale"]["en"] = "Unlike Augmentin, …"
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "guideline", "required")
    finding_at(report, MODULE_FILE, "case.questions[0].rationale.en", "Augmentin")


# 2. references


def test_unknown_value_set_url(tmp_path):
    module = good_module()
    module["triggers"]["all_of"][0]["condition"]["value_set"] = (
        "https://fhir.bedside.example/ValueSet/sepsys"
    )
    report = run_check(tmp_path, module)
    finding = assert_fails(report, MODULE_FILE, "triggers.all_of[0].condition.value_set", "sepsys")
    assert "did you mean https://fhir.bedside.example/ValueSet/sepsis" in finding.message


def test_unknown_value_set_url_inside_unless(tmp_path):
    module = good_module()
    module["triggers"]["all_of"][0]["condition"]["unless"] = [
        {"medication": {"value_set": "https://fhir.bedside.example/ValueSet/sepsys"}}
    ]
    report = run_check(tmp_path, module)
    path = "triggers.all_of[0].condition.unless[0].medication.value_set"
    assert_fails(report, MODULE_FILE, path, "sepsys")


def test_unknown_patient_facts_url(tmp_path):
    module = good_module()
    module["case"]["patient_facts"] = ["https://fhir.bedside.example/ValueSet/nope"]
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "case.patient_facts[0]", "no value set")


def test_module_file_must_be_named_after_its_id(tmp_path):
    content = write_library(tmp_path)
    (content / "modules" / "sepsis-lactate.yaml").rename(content / "modules" / "sepsis.yaml")
    report = check_library(content, today=TODAY)
    assert_fails(report, "content/modules/sepsis.yaml", "id", "rename the file")


def test_duplicate_module_ids(tmp_path):
    content = write_library(tmp_path)
    source = content / "modules" / "sepsis-lactate.yaml"
    (content / "modules" / "sepsis-lactate.yml").write_text(source.read_text("utf-8"), "utf-8")
    report = check_library(content, today=TODAY)
    assert_fails(report, "content/modules/sepsis-lactate.yml", "id", "also used by " + MODULE_FILE)


def test_value_set_file_stem_id_and_url(tmp_path):
    sepsis, lactate = good_value_sets()
    lactate["url"] = "https://fhir.bedside.example/ValueSet/lactic-acid"
    content = write_library(tmp_path, value_sets=[sepsis, lactate])
    (content / "valuesets" / "sepsis.json").rename(content / "valuesets" / "sepsis-2.json")
    report = check_library(content, today=TODAY)
    assert_fails(report, "content/valuesets/sepsis-2.json", "id", "does not match the file name")
    finding_at(report, LACTATE_FILE, "url", "must be https://fhir.bedside.example/ValueSet/lactate")


def test_duplicate_value_set_ids(tmp_path):
    content = write_library(tmp_path)
    source = content / "valuesets" / "sepsis.json"
    (content / "valuesets" / "sepsis2.json").write_text(source.read_text("utf-8"), "utf-8")
    report = check_library(content, today=TODAY)
    assert_fails(report, "content/valuesets/sepsis2.json", "id", "also used by " + SEPSIS_FILE)
    finding_at(report, "content/valuesets/sepsis2.json", "url", "also used by")


def test_a_value_set_must_be_a_valid_fhir_valueset(tmp_path):
    sepsis, lactate = good_value_sets()
    sepsis["status"] = ["draft"]
    report = run_check(tmp_path, value_sets=[sepsis, lactate])
    assert_fails(report, SEPSIS_FILE, "status", "not a valid FHIR R4 ValueSet")


# 3. codes


def test_icd10cm_code_that_does_not_exist(tmp_path):
    sepsis, lactate = good_value_sets()
    sepsis["compose"]["include"][1]["concept"].append({"code": "J06.99", "display": "Made up"})
    report = run_check(tmp_path, value_sets=[sepsis, lactate])
    field = "compose.include[1].concept[1].code"
    assert_fails(report, SEPSIS_FILE, field, "J06.99' does not exist")


def test_bad_loinc_check_digit(tmp_path):
    sepsis, lactate = good_value_sets()
    lactate["compose"]["include"][0]["concept"][0]["code"] = "2524-8"
    report = run_check(tmp_path, value_sets=[sepsis, lactate])
    assert_fails(report, LACTATE_FILE, "compose.include[0].concept[0].code", "check digit")


def test_bad_loinc_in_a_suggestion_resource(tmp_path):
    module = good_module()
    resource = module["card"]["suggestions"][0]["actions"][0]["resource"]
    resource["code"]["coding"][0]["code"] = "600-8"
    report = run_check(tmp_path, module)
    field = "card.suggestions[0].actions[0].resource.code.coding[0]"
    assert_fails(report, MODULE_FILE, field, "600-8 has a wrong check digit")


def test_bad_snomed_verhoeff(tmp_path):
    sepsis, lactate = good_value_sets()
    sepsis["compose"]["include"][0]["concept"][0]["code"] = "91302009"
    report = run_check(tmp_path, value_sets=[sepsis, lactate])
    assert_fails(report, SEPSIS_FILE, "compose.include[0].concept[0].code", "Verhoeff")


def test_bad_snomed_topic(tmp_path):
    module = good_module()
    module["topic"]["code"] = "91302009"
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "topic", "Verhoeff")


def test_unknown_code_system_in_a_value_set(tmp_path):
    sepsis, lactate = good_value_sets()
    lactate["compose"]["include"][0]["system"] = "https://loinc.org"
    report = run_check(tmp_path, value_sets=[sepsis, lactate])
    finding = assert_fails(report, LACTATE_FILE, "compose.include[0].system", "unknown code system")
    assert "did you mean http://loinc.org" in finding.message


def test_icd10cm_header_in_a_value_set_is_a_warning(tmp_path):
    sepsis, lactate = good_value_sets()
    sepsis["compose"]["include"][1]["concept"].append({"code": "A41", "display": "Other sepsis"})
    report = run_check(tmp_path, value_sets=[sepsis, lactate])
    assert report.ok, listing(report)
    field = "compose.include[1].concept[1].code"
    finding_at(report, SEPSIS_FILE, field, "not a billable code", "warning")


# 11. suggestions


def test_invalid_suggestion_resource(tmp_path):
    module = good_module()
    del module["card"]["suggestions"][0]["actions"][0]["resource"]["intent"]
    report = run_check(tmp_path, module)
    field = "card.suggestions[0].actions[0].resource.intent"
    assert_fails(report, MODULE_FILE, field, "not a valid FHIR R4 ServiceRequest")


def test_unknown_resource_type_and_template(tmp_path):
    module = good_module()
    resource = module["card"]["suggestions"][0]["actions"][0]["resource"]
    resource["resourceType"] = "ServiceOrder"
    report = run_check(tmp_path, module)
    assert_fails(
        report,
        MODULE_FILE,
        "card.suggestions[0].actions[0].resource.resourceType",
        "not a FHIR R4 resource type",
    )
    resource["resourceType"] = "ServiceRequest"
    resource["subject"]["reference"] = "Patient/{{context.patient}}"
    report = run_check(tmp_path / "again", module)
    assert_fails(
        report,
        MODULE_FILE,
        "card.suggestions[0].actions[0].resource",
        "unknown template {{context.patient}}",
    )


def test_suggestions_need_selection_behavior(tmp_path):
    module = good_module()
    del module["card"]["selection_behavior"]
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "card.selection_behavior", "add it")


# the library


def test_missing_content_dir_is_an_error(tmp_path):
    with pytest.raises(ContentDirError, match="no such folder"):
        check_library(tmp_path / "nope", today=TODAY)
    with pytest.raises(ContentDirError, match="not a content folder"):
        check_library(tmp_path, today=TODAY)


def test_progress_wraps_the_module_paths(tmp_path):
    content = write_library(tmp_path)
    seen = []

    def progress(paths):
        seen.extend(paths)
        return _Passthrough(paths)

    check_library(content, today=TODAY, progress=progress)
    assert [path.name for path in seen] == ["sepsis-lactate.yaml"]


class _Passthrough:
    """A minimal progress context manager that yields the paths unchanged."""

    def __init__(self, paths):
        self.paths = paths

    def __enter__(self):
        return self.paths

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize(
    "break_it",
    [
        lambda m: m.update(card="oops"),
        lambda m: m["triggers"].update(all_of={"condition": "x"}),
        lambda m: m["case"].update(questions=["q1", "q2", "q3"]),
        lambda m: m.update(languages="en"),
        lambda m: m["card"].update(summary=["Lactate"]),
        lambda m: m["card"]["suggestions"][0]["actions"][0].update(resource=[1, 2]),
        lambda m: m.update(disclosures={"people": [None]}),
        lambda m: m.update(expires=20271231, review="draft", topic=[]),
    ],
)
def test_malformed_shapes_give_schema_errors_not_crashes(tmp_path, break_it):
    module = good_module()
    break_it(module)
    report = run_check(tmp_path, module)
    assert not report.ok
    assert any(f.message.startswith("schema:") for f in report.findings), listing(report)
    assert not [f for f in report.findings if "skipped" in f.message or "internal" in f.message], (
        listing(report)
    )

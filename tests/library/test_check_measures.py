"""The checker on outcome measures (content/measures): a corpus of broken measures, each failing
with file and field, and the shipped measures passing (measure-only value sets: their own file)."""

from __future__ import annotations

import pytest

from app.library.check import check_library
from app.library.measure_definitions import MeasureError, load_measures
from app.settings import REPO_ROOT
from tests.library.helpers import (
    MEASURE_FILE,
    TODAY,
    assert_fails,
    finding_at,
    good_measure,
    listing,
    run_measure_check,
    write_library,
    write_measures,
    write_yaml,
)


def test_the_good_measure_corpus_passes_without_errors_or_warnings(tmp_path):
    report = run_measure_check(tmp_path)
    assert report.ok, listing(report)
    assert [f for f in report.findings if f.severity != "info"] == [], listing(report)
    assert (report.modules, report.value_sets, report.measures) == (1, 5, 1)
    assert report.summary() == "1 module, 5 value sets, 1 measure: 0 errors, 0 warnings, 3 infos"


def test_the_shipped_content_passes_and_loads():
    content = REPO_ROOT / "content"
    report = check_library(content, today=TODAY)
    assert report.ok, listing(report)
    measure_findings = [f for f in report.findings if f.file.startswith("content/measures")]
    assert measure_findings == [], listing(report)
    assert report.measures == len(load_measures(content)) == 5


# schema: the one load_measures uses


def test_missing_field_fails_the_schema(tmp_path):
    measure = good_measure()
    del measure["direction"]
    report = run_measure_check(tmp_path, measure)
    assert_fails(report, MEASURE_FILE, "direction", "is required but missing")


def test_every_schema_error_is_reported_with_its_field(tmp_path):
    measure = good_measure()
    measure["colour"] = "blue"
    measure["kind"] = "sepsis-bundles"
    del measure["criteria"]["lactate"]["unit"]
    report = run_measure_check(tmp_path, measure)
    assert_fails(report, MEASURE_FILE, "(top level)", "'colour' was unexpected")
    finding_at(report, MEASURE_FILE, "kind", "'sepsis-bundles' is not one of")
    measure["kind"] = "sepsis-bundle"
    report = run_measure_check(tmp_path / "again", measure)
    assert_fails(report, MEASURE_FILE, "criteria.lactate.unit", "is required but missing")


@pytest.mark.parametrize(
    ("level", "text"),
    [(0, "less than the minimum"), (3, "less than the minimum"), (8, "greater than the maximum")],
)
def test_moore_level_out_of_range(tmp_path, level, text):
    measure = good_measure()
    measure["moore_level"] = level
    report = run_measure_check(tmp_path, measure)
    finding = assert_fails(report, MEASURE_FILE, "moore_level", text)
    assert "Moore's outcome levels are whole numbers 1-7" in finding.message


@pytest.mark.parametrize("level", ["5", 5.5, True])
def test_moore_level_must_be_an_integer(tmp_path, level):
    measure = good_measure()
    measure["moore_level"] = level
    report = run_measure_check(tmp_path, measure)
    finding = assert_fails(report, MEASURE_FILE, "moore_level", "is not of type 'integer'")
    assert "a measure computed from practice data is 5, 6 or 7" in finding.message


def test_negative_hours(tmp_path):
    measure = good_measure()
    measure["criteria"]["antibiotic"]["hours_after"] = -3
    report = run_measure_check(tmp_path, measure)
    field = "criteria.antibiotic.hours_after"
    finding = assert_fails(report, MEASURE_FILE, field, "-3 is less than the minimum of 0")
    assert "cannot be negative" in finding.message


def test_unreadable_measure_does_not_stop_the_others(tmp_path):
    content = write_measures(write_library(tmp_path))
    (content / "measures" / "broken.yaml").write_text("id: [unclosed\n", "utf-8")
    (content / "measures" / "list.yaml").write_text("- id: list\n", "utf-8")
    report = check_library(content, today=TODAY)
    assert_fails(report, "content/measures/broken.yaml", "(file)", "cannot be read as YAML")
    finding_at(report, "content/measures/list.yaml", "(file)", "must be a YAML mapping")
    assert report.measures == 3
    assert not [f for f in report.findings if f.file == MEASURE_FILE], listing(report)


def test_missing_measure_schema(tmp_path):
    content = write_measures(write_library(tmp_path))
    (content / "measures" / "measure.schema.json").unlink()
    report = check_library(content, today=TODAY)
    assert_fails(report, "content/measures/measure.schema.json", "(file)", "cannot be read")


@pytest.mark.parametrize(
    "break_it",
    [
        lambda m: m.update(criteria="all of them"),
        lambda m: m.update(modules="sepsis-lactate"),
        lambda m: m["criteria"].update(lactate=[1, 2], age=[18]),
        lambda m: m["criteria"]["antibiotic"].update(value_sets="https://x.example/vs"),
        lambda m: m.update(id=["sepsis-lactate-bundle"], source=None),
    ],
)
def test_malformed_shapes_give_schema_errors_not_crashes(tmp_path, break_it):
    measure = good_measure()
    break_it(measure)
    report = run_measure_check(tmp_path, measure)
    assert not report.ok
    assert any(f.message.startswith("schema:") for f in report.findings), listing(report)
    assert not [f for f in report.findings if "skipped" in f.message or "internal" in f.message], (
        listing(report)
    )
    errors = [f for f in report.findings if f.severity == "error"]
    assert len(errors) == len(set(errors)), listing(report)


# identity and references


def test_measure_file_must_be_named_after_its_id(tmp_path):
    content = write_measures(write_library(tmp_path))
    measures = content / "measures"
    (measures / "sepsis-lactate-bundle.yaml").rename(measures / "sepsis-bundle.yaml")
    report = check_library(content, today=TODAY)
    assert_fails(report, "content/measures/sepsis-bundle.yaml", "id", "rename the file")


def test_duplicate_measure_ids(tmp_path):
    content = write_measures(write_library(tmp_path))
    write_yaml(content / "measures" / "sepsis-lactate-bundle-2.yaml", good_measure())
    report = check_library(content, today=TODAY)
    other = "content/measures/sepsis-lactate-bundle-2.yaml"  # sorts first, so it keeps the id
    text = f"measure id 'sepsis-lactate-bundle' is also used by {other}"
    assert_fails(report, MEASURE_FILE, "id", text)
    finding_at(report, other, "id", "does not match the file name")


def test_unknown_value_set_in_the_criteria(tmp_path):
    measure = good_measure()
    measure["criteria"]["blood_culture"]["value_sets"] = [
        "https://fhir.bedside.example/ValueSet/blood-cultures"
    ]
    report = run_measure_check(tmp_path, measure)
    field = "criteria.blood_culture.value_sets[0]"
    finding = assert_fails(
        report, MEASURE_FILE, field, "in content/valuesets or content/measures/valuesets"
    )
    assert "did you mean https://fhir.bedside.example/ValueSet/blood-culture?" in finding.message
    assert "add content/measures/valuesets/blood-cultures.json" in finding.message


def test_unknown_linked_module(tmp_path):
    measure = good_measure()
    measure["modules"] = ["sepsis-lactate", "sepsis-lactat"]
    report = run_measure_check(tmp_path, measure)
    finding = assert_fails(report, MEASURE_FILE, "modules[1]", "no module with id 'sepsis-lactat'")
    assert "did you mean sepsis-lactate?" in finding.message


# windows, thresholds and ages the schema cannot judge


def test_age_range_that_holds_no_one(tmp_path):
    measure = good_measure()
    measure["criteria"]["age"] = {"min_years": 18, "max_years": 18}
    report = run_measure_check(tmp_path, measure)
    assert_fails(report, MEASURE_FILE, "criteria.age.max_years", "no age qualifies")


def test_zero_hour_window_is_a_warning(tmp_path):
    measure = good_measure()
    measure["criteria"]["blood_culture"].update(hours_before=0, hours_after=0)
    report = run_measure_check(tmp_path, measure)
    assert report.ok, listing(report)
    field = "criteria.blood_culture.hours_before"
    finding_at(report, MEASURE_FILE, field, "single instant", "warning")


def test_lactate_repeat_threshold_and_window(tmp_path):
    measure = good_measure()
    measure["criteria"]["lactate"].update(repeat_if_above=-1, repeat_hours_after=3)
    report = run_measure_check(tmp_path, measure)
    assert_fails(report, MEASURE_FILE, "criteria.lactate.repeat_if_above", "every initial lactate")
    field = "criteria.lactate.repeat_hours_after"
    finding_at(report, MEASURE_FILE, field, "can never be repeated", "warning")


# the checker and load_measures agree


@pytest.mark.parametrize(
    "break_it",
    [
        lambda m: m.update(moore_level=4),
        lambda m: m.update(id="sepsis-bundle"),
        lambda m: m["criteria"]["sepsis"].update(
            value_sets=["https://fhir.bedside.example/ValueSet/nope"]
        ),
        lambda m: m["criteria"]["lactate"].update(initial_hours_before=-1),
    ],
)
def test_what_the_checker_rejects_load_measures_rejects(tmp_path, break_it):
    measure = good_measure()
    break_it(measure)
    content = write_measures(write_library(tmp_path), [])
    write_yaml(content / "measures" / "sepsis-lactate-bundle.yaml", measure)
    assert not check_library(content, today=TODAY).ok
    with pytest.raises(MeasureError):
        load_measures(content)

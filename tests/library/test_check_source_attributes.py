"""The content check refuses a module lacking HTI-1 source attributes or misstating its data use."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
import yaml

from app.library.check import check_library
from app.library.loader import load_library
from app.library.source_attributes import DATA_ELEMENTS, derived_data_use
from app.settings import REPO_ROOT
from tests.library.helpers import (
    MODULE_FILE,
    assert_fails,
    good_module,
    good_value_sets,
    listing,
    run_check,
)

SHIPPED = REPO_ROOT / "content"
SHIPPED_TODAY = date(2026, 12, 6)


def test_the_good_corpus_declares_every_attribute(tmp_path):
    report = run_check(tmp_path)
    assert report.ok, listing(report)


def test_a_module_without_source_attributes_is_refused(tmp_path):
    module = good_module()
    del module["source_attributes"]
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "source_attributes", "HTI-1 source attributes are missing")


@pytest.mark.parametrize("attribute", ["developer", "funding", "released", "data_use"])
def test_a_module_lacking_one_attribute_is_refused(tmp_path, attribute):
    module = good_module()
    del module["source_attributes"][attribute]
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, f"source_attributes.{attribute}", "required")


def test_a_module_lacking_one_data_element_is_refused(tmp_path):
    module = good_module()
    del module["source_attributes"]["data_use"]["gender_identity"]
    report = run_check(tmp_path, module)
    field = "source_attributes.data_use.gender_identity"
    assert_fails(report, MODULE_FILE, field, "required")


def test_an_age_trigger_declared_as_not_using_date_of_birth_is_refused(tmp_path):
    module = good_module()
    module["triggers"]["age"] = {"min_years": 18}
    report = run_check(tmp_path, module)
    finding = assert_fails(
        report, MODULE_FILE, "source_attributes.data_use.date_of_birth", "declared false"
    )
    assert "triggers.age reads Patient.birthDate" in finding.message


def test_a_sex_trigger_must_be_declared(tmp_path):
    module = good_module()
    module["triggers"]["sex"] = "female"
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "source_attributes.data_use.sex", "triggers.sex")


def test_declaring_a_use_no_trigger_makes_is_refused(tmp_path):
    module = good_module()
    module["source_attributes"]["data_use"]["race"] = True
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "source_attributes.data_use.race", "no trigger reads race")


def test_a_fhirpath_trigger_reading_birth_date_must_be_declared(tmp_path):
    module = good_module()
    module["triggers"]["fhirpath"] = {
        "expression": "Bundle.entry.resource.ofType(Patient).birthDate.exists()",
        "description": "the birth date is known",
    }
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "source_attributes.data_use.date_of_birth", "fhirpath")


def test_an_sdoh_code_in_a_trigger_value_set_means_sdoh_data_is_used(tmp_path):
    value_sets = good_value_sets()
    include = value_sets[0]["compose"]["include"]
    include.append(
        {
            "system": "http://hl7.org/fhir/sid/icd-10-cm",
            "concept": [{"code": "Z59.00", "display": "Homelessness unspecified"}],
        }
    )
    report = run_check(tmp_path, good_module(), value_sets)
    field = "source_attributes.data_use.social_determinants_of_health"
    finding = assert_fails(report, MODULE_FILE, field, "declared false")
    assert "ICD-10-CM Z59.00" in finding.message


def test_a_release_date_must_be_a_date(tmp_path):
    module = good_module()
    module["source_attributes"]["released"] = "1 February"
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "source_attributes.released", "does not match")


def test_a_revision_date_must_come_after_the_release(tmp_path):
    module = good_module()
    module["source_attributes"]["revised"] = ["2026-01-15"]  # released 2026-02-01
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "source_attributes.revised[0]", "not after the release")


def test_every_shipped_module_passes_the_source_attribute_check():
    report = check_library(SHIPPED, today=SHIPPED_TODAY)
    attribute_findings = [f for f in report.findings if f.field.startswith("source_attributes")]
    assert report.modules >= 13
    assert attribute_findings == [], listing(report)
    assert report.ok, listing(report)


def test_every_shipped_module_declares_what_its_triggers_read():
    library = load_library(SHIPPED)
    for module in library.modules.values():
        derived = derived_data_use(module, library.value_sets)
        declared = module["source_attributes"]["data_use"]
        assert {e for e in DATA_ELEMENTS if declared[e]} == set(derived), module["id"]


def test_a_shipped_module_whose_declaration_drops_its_age_trigger_is_refused(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(SHIPPED, content)
    path = content / "modules" / "hfref-gdmt.yaml"
    text = path.read_text(encoding="utf-8")
    assert "    date_of_birth: true\n" in text
    dishonest = text.replace("    date_of_birth: true\n", "    date_of_birth: false\n")
    path.write_text(dishonest, "utf-8")
    report = check_library(content, today=SHIPPED_TODAY)
    assert_fails(
        report,
        "content/modules/hfref-gdmt.yaml",
        "source_attributes.data_use.date_of_birth",
        "triggers.age",
    )
    assert yaml.safe_load(text)["triggers"]["age"] == {"min_years": 18}

"""`bedside content check` on malformed content: findings or one sentence, never a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from app.library.content_commands import check
from tests.library.helpers import (
    MODULE_FILE,
    SEPSIS_FILE,
    good_measure,
    good_module,
    good_value_sets,
    write_library,
    write_measures,
)

MEASURE_FILE = "content/measures/sepsis-lactate-bundle.yaml"
MEASURE_SCHEMA_FILE = "content/measures/measure.schema.json"


def content_check(content):
    """Run `bedside content check` on a content folder (errors only) as the CLI does."""
    result = CliRunner().invoke(check, ["--content-dir", str(content), "--quiet"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result


def assert_finding(content, line: str) -> None:
    """The check fails (exit 1) and reports this finding line."""
    result = content_check(content)
    assert result.exit_code == 1, result.output
    assert line in result.output.splitlines(), result.output


def test_a_value_set_system_that_is_a_list_is_a_finding(tmp_path):
    value_sets = good_value_sets()
    value_sets[0]["compose"]["include"][0]["system"] = ["x"]
    assert_finding(
        write_library(tmp_path, value_sets=value_sets),
        f"ERROR {SEPSIS_FILE}: compose.include[0].system: not a valid FHIR R4 ValueSet: "
        "Input should be a valid string.",
    )


def test_a_trigger_value_set_that_is_a_list_is_a_schema_finding(tmp_path):
    module = good_module()
    module["triggers"]["all_of"][0]["condition"]["value_set"] = [1]
    assert_finding(
        write_library(tmp_path, modules=[module]),
        f"ERROR {MODULE_FILE}: triggers.all_of[0].condition.value_set: schema: [1] is not of "
        "type 'string'; see content/FORMAT.md and content/schema/module.schema.json.",
    )


def test_a_patient_fact_that_is_a_list_is_a_schema_finding(tmp_path):
    module = good_module()
    module["case"]["patient_facts"] = [["https://fhir.bedside.example/ValueSet/lactate"]]
    result = content_check(write_library(tmp_path, modules=[module]))
    assert result.exit_code == 1
    assert f"ERROR {MODULE_FILE}: case.patient_facts[0]: schema: " in result.output


def test_a_measure_value_set_that_is_a_list_is_a_schema_finding(tmp_path):
    measure = good_measure()
    measure["criteria"]["sepsis"]["value_sets"] = [[1]]
    content = write_measures(write_library(tmp_path), measures=[measure])
    result = content_check(content)
    assert result.exit_code == 1
    assert f"ERROR {MEASURE_FILE}: criteria.sepsis.value_sets[0]: schema: [1] is not of" in (
        result.output
    )


BROKEN_SCHEMAS = {
    "a list": ("[]", "[] is not of type 'object', 'boolean'"),
    "a bad pattern": ('{"properties": {"id": {"pattern": "("}}}', "'(' is not a 'regex'"),
    "deep nesting": ("[" * 100_000 + "]" * 100_000, "arrays or objects nested too deeply"),
}


@pytest.mark.parametrize("schema, reason", BROKEN_SCHEMAS.values(), ids=BROKEN_SCHEMAS)
def test_a_broken_module_schema_is_one_sentence(tmp_path, schema, reason):
    content = write_library(tmp_path)
    schema_file = content / "schema" / "module.schema.json"
    schema_file.write_text(schema)
    result = content_check(content)
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: Invalid value for --content-dir: {schema_file}: not a usable JSON Schema "
        f"({reason})."
    )


@pytest.mark.parametrize("schema, reason", BROKEN_SCHEMAS.values(), ids=BROKEN_SCHEMAS)
def test_a_broken_measure_schema_is_a_finding(tmp_path, schema, reason):
    content = write_measures(write_library(tmp_path))
    (content / "measures" / "measure.schema.json").write_text(schema)
    result = content_check(content)
    assert result.exit_code == 1
    finding = f"ERROR {MEASURE_SCHEMA_FILE}: (file): the measure schema cannot be read ({reason}); "
    assert finding + "measures are checked without it." in result.output
    assert result.output.count("measure.schema.json") == 1  # named once, by the finding


UNREADABLE_JSON = {
    "a 5,000-digit number": ('{"id": ' + "1" * 5000 + "}", "a number has more than 4,300 digits"),
    "deep nesting": ("[" * 100_000 + "]" * 100_000, "arrays or objects nested too deeply"),
}


@pytest.mark.parametrize("text, reason", UNREADABLE_JSON.values(), ids=UNREADABLE_JSON)
def test_unreadable_value_set_json_is_a_finding(tmp_path, text, reason):
    content = write_library(tmp_path)
    (content / "valuesets" / "sepsis.json").write_text(text)
    result = content_check(content)
    assert result.exit_code == 1
    assert f"ERROR {SEPSIS_FILE}: (file): cannot be read as JSON ({reason})." in result.output


def test_the_check_reads_the_content_folder_the_app_is_configured_to_serve(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    result = CliRunner().invoke(check, [], env={"BEDSIDE_CONTENT_DIR": str(served)})
    assert result.exit_code != 0 and str(served) in result.output

"""Checks of the outcome measures (content/measures/*.yaml), run by `bedside content check`.

The rules are those of `measure_definitions.load_measures` (its schema, the id is the file name,
every value set resolves in content/valuesets or content/measures/valuesets), plus what the
schema cannot say: linked modules exist, ages and time windows can match something. Each check
takes a MeasureFile (defined with the other content files in findings) and returns findings;
measure-only value sets get the library's value set checks (library_checks), and duplicate
measure ids are found with the other duplicate ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import jsonschema

from app.fhir_json import is_number
from app.library.findings import (
    FieldPath,
    Finding,
    MeasureFile,
    get,
    items,
    schema_findings,
)
from app.library.loader import SchemaFileError
from app.library.measure_definitions import (
    MEASURES_FOLDER,
    SCHEMA_FILE,
    VALUE_SET_FOLDERS,
    MeasureError,
    measure_validator,
    read_yaml,
)
from app.library.module_checks import did_you_mean, id_matches_file_name, unknown_value_set

MEASURE_VALUE_SET_FOLDER = VALUE_SET_FOLDERS[-1]  # content/measures/valuesets
VALUE_SET_FOLDER_NAMES = tuple("content/" + "/".join(folder) for folder in VALUE_SET_FOLDERS)
WINDOW_KEY = re.compile(r"hours|days|years|months")
MOORE_HINT = (
    "Moore's outcome levels are whole numbers 1-7 (1 participation … 5 performance in practice, "
    "6 patient health, 7 community health); a measure computed from practice data is 5, 6 or 7 "
    "(levels 1-4 are what attendance and quizzes show)."
)
WINDOW_HINT = (
    "time windows and ages cannot be negative (each direction has its own *_before or *_after "
    "field); see content/FORMAT.md (Outcome measures)."
)


def measure_paths(content_dir: Path) -> list[Path]:
    """The measure files, as load_measures finds them (content/measures/*.yaml)."""
    return sorted((content_dir / MEASURES_FOLDER).glob("*.yaml"))


def measure_value_set_paths(content_dir: Path) -> list[Path]:
    """The measure-only value set files (content/measures/valuesets/*.json)."""
    return sorted(content_dir.joinpath(*MEASURE_VALUE_SET_FOLDER).glob("*.json"))


def schema_path(content_dir: Path) -> Path:
    """Where load_measures reads the measure schema."""
    return content_dir / MEASURES_FOLDER / SCHEMA_FILE


def measure_schema(content_dir: Path, file: str) -> tuple[jsonschema.Validator | None, list]:
    """The validator load_measures uses, or None and a finding when the schema cannot be read."""
    try:
        return measure_validator(content_dir), []
    except SchemaFileError as error:  # the finding names the file: the reason alone here
        message = (
            f"the measure schema cannot be read ({error.reason}); measures are checked without it."
        )
        return None, [Finding("error", file, "(file)", message)]


def load_measure_file(entry: MeasureFile, validator: jsonschema.Validator | None) -> list[Finding]:
    """Read one measure and report every schema error (without a schema, only the reading)."""
    try:
        entry.measure = read_yaml(entry.path)
    except MeasureError as error:
        return [entry.error(["(file)"], str(error).removeprefix(f"{entry.path}: "))]
    if validator is None:
        return []
    findings = schema_findings(entry, entry.measure, validator, measure_hint)
    entry.schema_ok = not findings
    return findings


def measure_hint(parts: Sequence[str | int]) -> str:
    """How to fix a schema error at this measure field."""
    key = str(parts[-1]) if parts else ""
    if key == "moore_level":
        return MOORE_HINT
    if WINDOW_KEY.search(key):
        return WINDOW_HINT
    return "see content/FORMAT.md (Outcome measures) and content/measures/measure.schema.json."


def check_file_name(entry: MeasureFile) -> list[Finding]:
    """The file is named after the id (load_measures refuses the measure otherwise)."""
    return id_matches_file_name(entry, entry.data.get("id"))


def check_value_set_references(entry: MeasureFile) -> list[Finding]:
    """Every value set URL in the criteria is a value set of the library or a measure-only one."""
    known = entry.library.measure_value_sets
    return [
        entry.error(path, unknown_value_set(url, known, VALUE_SET_FOLDER_NAMES))
        for path, url in entry.value_set_references()
        if isinstance(url, str) and url not in known
    ]


def check_linked_modules(entry: MeasureFile) -> list[Finding]:
    """Every module linked to the measure (before/after comparisons) is a module of the library."""
    known = {get(module.module, "id") for module in entry.library.modules} - {None}
    return [
        entry.error(
            ["modules", index],
            f"no module with id {module_id!r} in content/modules"
            f"{did_you_mean(module_id, known)}; fix the id or add "
            f"content/modules/{module_id}.yaml.",
        )
        for index, module_id in items(entry.data.get("modules"))
        if isinstance(module_id, str) and module_id not in known
    ]


def check_age(entry: MeasureFile) -> list[Finding]:
    """The age range can hold someone: the minimum is below max_years (which is exclusive)."""
    age = get(entry.data, "criteria", "age")
    oldest = get(age, "max_years")
    if not is_number(oldest):
        return []
    minimums = [get(age, "min_months"), 12 * number(get(age, "min_years"))]
    youngest = max(value for value in minimums if is_number(value))
    if youngest < 12 * oldest:
        return []
    message = (
        f"max_years {oldest} is exclusive (patients must be younger), so no age qualifies with "
        "this minimum; raise max_years or lower the minimum."
    )
    return [entry.error(["criteria", "age", "max_years"], message)]


def check_hour_windows(entry: MeasureFile) -> list[Finding]:
    """A window of 0 hours before and 0 hours after its anchor is an instant: a warning."""
    return [
        entry.warning(
            [*path, key],
            f"the window [T0 - 0 h, T0 + 0 h] is a single instant, so almost nothing falls in "
            f"it; widen {key} or {key.replace('before', 'after')}.",
        )
        for path, section in sections(get(entry.data, "criteria"), ("criteria",))
        for key, value in section.items()
        if key.endswith("hours_before")
        and value == 0
        and section.get(key.replace("before", "after")) == 0
    ]


def check_lactate_repeat(entry: MeasureFile) -> list[Finding]:
    """A lactate repeat threshold is a concentration, and its window ends after the initial one."""
    lactate, path = get(entry.data, "criteria", "lactate"), ("criteria", "lactate")
    findings: list[Finding] = []
    threshold = get(lactate, "repeat_if_above")
    if is_number(threshold) and threshold < 0:
        message = (
            f"a lactate above {threshold} means every initial lactate needs a repeat; use a "
            "concentration in the measure's unit (SEP-1: 2 mmol/L)."
        )
        findings.append(entry.error([*path, "repeat_if_above"], message))
    initial, repeat = get(lactate, "initial_hours_after"), get(lactate, "repeat_hours_after")
    if is_number(initial) and is_number(repeat) and repeat <= initial:
        message = (
            f"an initial lactate at T0 + {initial} h can never be repeated by T0 + {repeat} h; "
            "make repeat_hours_after larger than initial_hours_after."
        )
        findings.append(entry.warning([*path, "repeat_hours_after"], message))
    return findings


def sections(node: Any, prefix: FieldPath) -> Iterator[tuple[FieldPath, dict]]:
    """Every mapping in the criteria, with its path (the criteria themselves first)."""
    if isinstance(node, dict):
        yield prefix, node
        for key, value in node.items():
            yield from sections(value, (*prefix, key))


def number(value: Any) -> float:
    """The value when it is a number, else 0 (for optional age bounds)."""
    return value if is_number(value) else 0

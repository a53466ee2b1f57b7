"""The checker's test corpus: a known-good module, measure and value sets in a temp content dir."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from app.library.check import check_library
from app.library.findings import CheckReport, Finding
from app.settings import REPO_ROOT

CORPUS = Path(__file__).parent / "corpus"
SCHEMA = REPO_ROOT / "content" / "schema" / "module.schema.json"
MEASURE_SCHEMA = REPO_ROOT / "content" / "measures" / "measure.schema.json"
TODAY = date(2026, 3, 1)
MODULE_FILE = "content/modules/sepsis-lactate.yaml"
SEPSIS_FILE = "content/valuesets/sepsis.json"
LACTATE_FILE = "content/valuesets/lactate.json"
MEASURE_FILE = "content/measures/sepsis-lactate-bundle.yaml"
MEASURE_VALUE_SETS = "content/measures/valuesets"

GOOD_MODULE = yaml.safe_load((CORPUS / "good-module.yaml").read_text(encoding="utf-8"))
GOOD_VALUE_SETS = [
    json.loads((CORPUS / name).read_text(encoding="utf-8"))
    for name in ("good-valueset.json", "good-valueset-lactate.json")
]
GOOD_MEASURE = yaml.safe_load((CORPUS / "good-measure.yaml").read_text(encoding="utf-8"))
GOOD_MEASURE_VALUE_SETS = json.loads(
    (CORPUS / "good-measure-valuesets.json").read_text(encoding="utf-8")
)


def good_module() -> dict:
    """A fresh copy of the known-good module, to break one thing in."""
    return copy.deepcopy(GOOD_MODULE)


def good_value_sets() -> list[dict]:
    """Fresh copies of the known-good value sets (sepsis, lactate)."""
    return copy.deepcopy(GOOD_VALUE_SETS)


def good_measure() -> dict:
    """A fresh copy of the known-good measure, to break one thing in."""
    return copy.deepcopy(GOOD_MEASURE)


def good_measure_value_sets() -> list[dict]:
    """Fresh copies of the known-good measure-only value sets (blood culture, antibiotics, …)."""
    return copy.deepcopy(GOOD_MEASURE_VALUE_SETS)


def write_library(root: Path, modules=None, value_sets=None) -> Path:
    """Write a content folder (the real schema, modules as YAML, value sets as JSON); return it."""
    content = root / "content"
    for folder in ("schema", "modules", "valuesets"):
        (content / folder).mkdir(parents=True, exist_ok=True)
    shutil.copy(SCHEMA, content / "schema" / "module.schema.json")
    for module in [good_module()] if modules is None else modules:
        write_yaml(content / "modules" / f"{module['id']}.yaml", module)
    for value_set in good_value_sets() if value_sets is None else value_sets:
        write_json(content / "valuesets" / f"{value_set['id']}.json", value_set)
    return content


def write_measures(content: Path, measures=None, value_sets=None) -> Path:
    """Add content/measures (the real measure schema, measures, measure-only value sets)."""
    folder = content / "measures"
    (folder / "valuesets").mkdir(parents=True, exist_ok=True)
    shutil.copy(MEASURE_SCHEMA, folder / "measure.schema.json")
    for measure in [good_measure()] if measures is None else measures:
        write_yaml(folder / f"{measure['id']}.yaml", measure)
    for value_set in good_measure_value_sets() if value_sets is None else value_sets:
        write_json(folder / "valuesets" / f"{value_set['id']}.json", value_set)
    return content


def write_yaml(path: Path, data: dict) -> None:
    """Write a module or measure as YAML."""
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")


def write_json(path: Path, data: dict) -> None:
    """Write a value set as JSON."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), "utf-8")


def run_check(root: Path, module: dict | None = None, value_sets=None, today=TODAY) -> CheckReport:
    """Write one module (the good one by default) with value sets and check the library."""
    content = write_library(root, None if module is None else [module], value_sets)
    return check_library(content, today=today)


def run_measure_check(
    root: Path, measure: dict | None = None, value_sets=None, measure_value_sets=None
) -> CheckReport:
    """Write the good module, one measure (the good one by default) and value sets; check them."""
    content = write_library(root, value_sets=value_sets)
    write_measures(content, None if measure is None else [measure], measure_value_sets)
    return check_library(content, today=TODAY)


def listing(report: CheckReport) -> str:
    """Every finding, one per line, for assertion messages."""
    return "\n".join(finding.line() for finding in report.findings) or "(no findings)"


def finding_at(
    report: CheckReport, file: str, field: str, text: str, severity: str = "error"
) -> Finding:
    """The finding of this severity at file/field whose message mentions text; fail if none."""
    for finding in report.findings:
        if (finding.severity, finding.file, finding.field) == (severity, file, field) and (
            text.lower() in finding.message.lower()
        ):
            return finding
    pytest.fail(f"no {severity} at {file}: {field} mentioning {text!r}; got:\n{listing(report)}")


def assert_fails(report: CheckReport, file: str, field: str, text: str) -> Finding:
    """The report is not ok and has the named error."""
    assert not report.ok, listing(report)
    return finding_at(report, file, field, text)

"""The checker's test corpus: a known-good module and value sets in a temp content folder."""

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
TODAY = date(2026, 3, 1)
MODULE_FILE = "content/modules/sepsis-lactate.yaml"
SEPSIS_FILE = "content/valuesets/sepsis.json"
LACTATE_FILE = "content/valuesets/lactate.json"

GOOD_MODULE = yaml.safe_load((CORPUS / "good-module.yaml").read_text(encoding="utf-8"))
GOOD_VALUE_SETS = [
    json.loads((CORPUS / name).read_text(encoding="utf-8"))
    for name in ("good-valueset.json", "good-valueset-lactate.json")
]


def good_module() -> dict:
    """A fresh copy of the known-good module, to break one thing in."""
    return copy.deepcopy(GOOD_MODULE)


def good_value_sets() -> list[dict]:
    """Fresh copies of the known-good value sets (sepsis, lactate)."""
    return copy.deepcopy(GOOD_VALUE_SETS)


def write_library(root: Path, modules=None, value_sets=None) -> Path:
    """Write a content folder (the real schema, modules as YAML, value sets as JSON); return it."""
    content = root / "content"
    for folder in ("schema", "modules", "valuesets"):
        (content / folder).mkdir(parents=True, exist_ok=True)
    shutil.copy(SCHEMA, content / "schema" / "module.schema.json")
    for module in [good_module()] if modules is None else modules:
        path = content / "modules" / f"{module['id']}.yaml"
        path.write_text(yaml.safe_dump(module, allow_unicode=True, sort_keys=False), "utf-8")
    for value_set in good_value_sets() if value_sets is None else value_sets:
        path = content / "valuesets" / f"{value_set['id']}.json"
        path.write_text(json.dumps(value_set, indent=2, ensure_ascii=False), "utf-8")
    return content


def run_check(root: Path, module: dict | None = None, value_sets=None, today=TODAY) -> CheckReport:
    """Write one module (the good one by default) with value sets and check the library."""
    content = write_library(root, None if module is None else [module], value_sets)
    return check_library(content, today=today)


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

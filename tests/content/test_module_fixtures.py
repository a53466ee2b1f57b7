"""Every content module fires on its positive fixtures and stays silent on its near misses."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from app.fhir_json import parse_time
from app.library.loader import load_library
from app.settings import REPO_ROOT
from cds_hooks.index import LibraryIndex, compile_library
from cds_hooks.matching import match_modules
from cds_hooks.patient_context import context_from_hook

REQUESTS_DIR = REPO_ROOT / "fhir_fixtures" / "cds_requests"
FIXTURES = sorted(REQUESTS_DIR.glob("*/*.json"))


@cache
def library_index() -> LibraryIndex:
    """Compile the shipped library once for all fixtures."""
    return compile_library(load_library(REPO_ROOT / "content"))


def matched_module_ids(fixture: dict, *, skip_irrelevant: bool = True) -> list[str]:
    """Run a fixture's CDS Hooks request through the real matching engine."""
    request = fixture["request"]
    index = library_index()
    context = context_from_hook(
        request["hook"],
        request["context"],
        request.get("prefetch", {}),
        parse_time(fixture["now"]),
        index.criterion_codes if skip_irrelevant else None,
    )
    return [found.module_id for found in match_modules(index, context)]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_module_fixture(path: Path):
    fixture = json.loads(path.read_text(encoding="utf-8"))
    assert fixture["module"] == path.parent.name
    assert fixture["expect"] == path.stem.split("-")[0]
    matched = matched_module_ids(fixture)
    if fixture["expect"] == "fires":
        assert fixture["module"] in matched, fixture["description"]
    else:
        assert fixture["module"] not in matched, fixture["description"]


def test_every_module_has_a_firing_and_a_silent_fixture():
    library = load_library(REPO_ROOT / "content")
    assert library.modules, "the content library is empty"
    for module_id in library.modules:
        kinds = {path.stem.split("-")[0] for path in (REQUESTS_DIR / module_id).glob("*.json")}
        assert kinds == {"fires", "silent"}, f"{module_id} needs fires-*.json and silent-*.json"


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_skipping_observations_no_criterion_uses_changes_nothing(path: Path):
    fixture = json.loads(path.read_text(encoding="utf-8"))
    assert matched_module_ids(fixture) == matched_module_ids(fixture, skip_irrelevant=False)

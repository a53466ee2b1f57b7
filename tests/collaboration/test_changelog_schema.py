"""The module schema takes an editorial changelog whose `resolves` cites queue item ids."""

from __future__ import annotations

import json

import yaml
from jsonschema.validators import validator_for

from app.settings import REPO_ROOT

SCHEMA = json.loads((REPO_ROOT / "content/schema/module.schema.json").read_text())
SEPSIS = yaml.safe_load((REPO_ROOT / "content/modules/sepsis-hour-1-bundle.yaml").read_text())


def errors_with(changelog: list) -> list[str]:
    """Schema errors of the sepsis module with this changelog."""
    module = {**SEPSIS, "editorial": {**SEPSIS["editorial"], "changelog": changelog}}
    validator = validator_for(SCHEMA)(SCHEMA)
    return [error.message for error in validator.iter_errors(module)]


def test_a_changelog_entry_citing_queue_items_is_valid():
    entry = {
        "version": "2.1.0",
        "date": "2026-12-07",
        "summary": "Fixed",
        "resolves": ["ed-0a1b2c3d4e"],
    }
    assert errors_with([entry]) == []


def test_a_malformed_item_id_or_a_missing_summary_is_refused():
    assert errors_with(
        [{"version": "2.1.0", "date": "2026-12-07", "summary": "x", "resolves": ["42"]}]
    )
    assert errors_with([{"version": "2.1.0", "date": "2026-12-07"}])

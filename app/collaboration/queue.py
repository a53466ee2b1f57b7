"""The editorial queue's rules, free of Flask and SQL: kinds, triage, and resolution by a release.

An item is resolved only by publishing: when the loaded library holds its module at a higher
version whose `editorial.changelog` has an entry (at or below the loaded version, above the
reported one) that lists the item id under `resolves` (content/FORMAT.md, "Editorial process").
The content change itself goes through git review like every other edit, so nothing a learner
reports reaches other learners unreviewed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

KINDS = ("error", "evidence", "update", "more-info")
LEARNER_KINDS = KINDS[:3]  # what a learner chooses; "more-info" comes only from CDS overrides
STATUSES = ("new", "accepted", "rejected", "resolved")
TRIAGE_STATUSES = ("new", "accepted", "rejected")  # "resolved" is reached only by a release
OPEN_STATUSES = ("new", "accepted")
NON_ADHERENCE_SYSTEM = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
# CDS Hooks override reasons (HL7 non-adherence reason codes) that are a critique of the content.
CRITIQUE_REASONS = {
    "recipient-disagrees-evidence": "evidence",
    "does-not-align-latest-evidence": "update",
    "need-more-info": "more-info",
}
ITEM_ID = re.compile(r"^ed-[0-9a-f]{10}$")
VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def new_item_id() -> str:
    """A short random id an editor can cite in a module's changelog (ed- and 10 hex digits)."""
    return f"ed-{secrets.token_hex(5)}"


def version_key(version: str) -> tuple[int, int, int]:
    """A module version (MAJOR.MINOR.PATCH) as a comparable tuple; (0, 0, 0) if malformed."""
    match = VERSION.match(str(version))
    if match is None:
        return (0, 0, 0)
    major, minor, patch = (int(part) for part in match.groups())
    return (major, minor, patch)


def critique_kind(reason_code: str | None, reason_system: str | None) -> str | None:
    """The item kind an override reason files, or None when the reason is no critique."""
    if reason_system not in {None, NON_ADHERENCE_SYSTEM}:
        return None
    return CRITIQUE_REASONS.get(reason_code or "")


def module_fields(module: Mapping[str, Any]) -> list[str]:
    """The fields of a module an item can point at (card, guideline, case and each question)."""
    fields = ["card", "card.override_reasons", "guideline", "case.vignette"]
    questions = module.get("case", {}).get("questions", [])
    fields += [f"case.questions.{question['id']}" for question in questions if "id" in question]
    return fields


def resolving_version(module: Mapping[str, Any], item_id: str, reported: str) -> str | None:
    """The loaded version that resolves the item, or None while none does."""
    loaded = str(module.get("version", ""))
    if version_key(loaded) <= version_key(reported):
        return None
    for entry in changelog(module):
        entry_version = version_key(str(entry.get("version", "")))
        cited = item_id in (entry.get("resolves") or [])
        if cited and version_key(reported) < entry_version <= version_key(loaded):
            return loaded
    return None


def changelog(module: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The module's editorial changelog entries (none when it has none)."""
    editorial = module.get("editorial")
    entries = editorial.get("changelog") if isinstance(editorial, Mapping) else None
    return [entry for entry in entries or [] if isinstance(entry, Mapping)]

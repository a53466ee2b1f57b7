"""A Bulk Data export replicated N times over: new patients with the same charts, for scale runs.

Copy 0 keeps the export's ids; copy k (k ≥ 1) adds `-r<k>` to the id of every resource that is not
shared and to every reference to one, so each copy adds distinct patients with the same charts and
every measure count is exactly N times the export's. Shared resources (clinicians, organisations,
locations, Medications) are written once and referenced unchanged. Each medicine given inline
(`medicationCodeableConcept`) becomes one shared Medication resource referenced by id, as EHR
exports usually hold them, so every engine's join of Medications is part of the work. Streamed
line by line: memory holds one resource and the distinct medicines.

Used by the outcomes benchmark and by the tests that compare engines on a replicated export.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import orjson

SHARED_TYPES = frozenset(
    {"Practitioner", "PractitionerRole", "Organization", "Location", "Medication"}
)
MEDICATION_FILE = "Medication.ndjson"


def replicate_export(source: Path, copies: int, out: Path) -> int:
    """Write `copies` copies of an NDJSON export's patients into out; return the resources."""
    out.mkdir(parents=True, exist_ok=True)
    medications: dict[str, dict] = {}
    written = 0
    for path in sorted(Path(source).glob("*.ndjson")):
        with path.open("rb") as lines, (out / path.name).open("wb") as target:
            for line in lines:
                if line.strip():
                    resource = with_shared_medication(orjson.loads(line), medications)
                    written += write_lines(target, copies_of(resource, copies))
    if medications:
        with (out / MEDICATION_FILE).open("ab") as target:
            written += write_lines(target, iter(medications.values()))
    return written


def copies_of(resource: dict, copies: int) -> Iterator[dict]:
    """The resource itself, then (unless shared) renamed copies 1 … copies-1."""
    yield resource
    if resource.get("resourceType") in SHARED_TYPES:
        return
    for copy in range(1, copies):
        renamed = renamed_references(resource, f"-r{copy}")
        if "id" in resource:
            renamed["id"] = f"{resource['id']}-r{copy}"
        yield renamed


def with_shared_medication(resource: dict, medications: dict[str, dict]) -> dict:
    """The resource with its inline medicine replaced by a reference to a shared Medication."""
    concept = resource.get("medicationCodeableConcept")
    if concept is None:
        return resource
    medication_id = medication_id_for(concept)
    medications.setdefault(
        medication_id, {"resourceType": "Medication", "id": medication_id, "code": concept}
    )
    shared = {key: value for key, value in resource.items() if key != "medicationCodeableConcept"}
    shared["medicationReference"] = {"reference": f"Medication/{medication_id}"}
    return shared


def medication_id_for(concept: dict) -> str:
    """A stable Medication id for a medicine concept."""
    digest = hashlib.sha256(orjson.dumps(concept, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"med-{digest[:12]}"


def renamed_references(value, suffix: str):
    """A deep copy with `suffix` added to every reference that does not point at a shared type."""
    if isinstance(value, dict):
        return {
            key: item + suffix
            if key == "reference" and isinstance(item, str) and own_reference(item)
            else renamed_references(item, suffix)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [renamed_references(item, suffix) for item in value]
    return value


def own_reference(reference: str) -> bool:
    """A relative reference (Type/id) to a resource that is not a shared type."""
    kind, _, rest = reference.partition("/")
    return bool(rest) and "/" not in rest and kind not in SHARED_TYPES


def write_lines(target: IO[bytes], resources: Iterator[dict]) -> int:
    """Write resources as NDJSON lines (sorted keys); return how many."""
    count = 0
    for resource in resources:
        target.write(orjson.dumps(resource, option=orjson.OPT_SORT_KEYS) + b"\n")
        count += 1
    return count

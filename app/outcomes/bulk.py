"""FHIR Bulk Data NDJSON files: read them, and find the patient each resource belongs to.

`group_by_patient` regroups resources per patient in memory; the streaming importer for large
exports is `ingest_ndjson`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from app.fhir_json import as_str, reference_id

PATIENT_FIELDS = ("subject", "patient")


def read_bulk_ndjson(directory: Path) -> Iterator[dict]:
    """Yield every resource of every `*.ndjson` file in a directory (sorted by file name)."""
    for path in sorted(Path(directory).glob("*.ndjson")):
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    yield json.loads(line)


def patient_id_of(resource: dict) -> str | None:
    """The id of the patient a resource belongs to (its own id for a Patient)."""
    if resource.get("resourceType") == "Patient":
        return as_str(resource.get("id"))
    for name in PATIENT_FIELDS:
        found = reference_id(resource.get(name), "Patient")
        if found:
            return found
    return None


def group_by_patient(resources: Iterable[dict]) -> list[list[dict]]:
    """Group resources per patient, in first-seen patient order; others are left out."""
    groups: dict[str, list[dict]] = {}
    for resource in resources:
        patient_id = patient_id_of(resource)
        if patient_id:
            groups.setdefault(patient_id, []).append(resource)
    return list(groups.values())

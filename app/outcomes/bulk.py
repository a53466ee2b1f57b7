"""FHIR Bulk Data style files for the synthetic dataset: write them, read them back per patient.

`write_bulk_ndjson` writes one `<Type>.ndjson` per resource type (one resource per line), a
`manifest.json` shaped like a Bulk Data export manifest, `learning-events.json` (clinician,
module, completion date) and `expected-measures.json` (the generator's known answers).
`group_by_patient` regroups resources per patient in memory; a streaming importer for large
exports (sorted or indexed by patient) is a separate concern.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from app.outcomes.fhir_data import reference_id
from app.outcomes.synthetic import SyntheticDataset, expected_summary
from app.outcomes.synthetic_fhir import iso

LEARNING_EVENTS_FILE = "learning-events.json"
EXPECTED_FILE = "expected-measures.json"
MANIFEST_FILE = "manifest.json"
PATIENT_FIELDS = ("subject", "patient")


def write_bulk_ndjson(dataset: SyntheticDataset, directory: Path) -> dict[str, Path]:
    """Write the dataset's files into directory (created if needed); return them by name."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    by_type: dict[str, list[dict]] = {}
    for resource in dataset.resources():
        by_type.setdefault(resource["resourceType"], []).append(resource)
    written: dict[str, Path] = {}
    for resource_type, resources in by_type.items():
        path = directory / f"{resource_type}.ndjson"
        lines = (json.dumps(r, sort_keys=True, separators=(",", ":")) for r in resources)
        path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        written[path.name] = path
    manifest = {
        "transactionTime": iso(dataset.as_of),
        "request": "synthetic://bedside/outcomes?seed=" + str(dataset.seed),
        "requiresAccessToken": False,
        "output": [
            {"type": kind, "url": f"{kind}.ndjson", "count": len(items)}
            for kind, items in by_type.items()
        ],
        "error": [],
    }
    events = [event.as_json() for event in dataset.learning_events]
    for name, content in (
        (MANIFEST_FILE, manifest),
        (LEARNING_EVENTS_FILE, events),
        (EXPECTED_FILE, expected_summary(dataset)),
    ):
        path = directory / name
        path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written[name] = path
    return written


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
        return resource.get("id")
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

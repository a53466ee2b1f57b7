"""The synthetic dataset as FHIR Bulk Data files, for tests and demos of the NDJSON import.

`write_bulk_ndjson` writes one `<Type>.ndjson` per resource type (one resource per line), a
`manifest.json` shaped like a Bulk Data export manifest, `learning-events.json` (clinician,
module, completion date) and `expected-measures.json` (the generator's known answers).
"""

from __future__ import annotations

import json
from pathlib import Path

from app.devtools.synthetic.dataset import SyntheticDataset, expected_summary
from app.devtools.synthetic.fhir import iso

LEARNING_EVENTS_FILE = "learning-events.json"
EXPECTED_FILE = "expected-measures.json"
MANIFEST_FILE = "manifest.json"


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

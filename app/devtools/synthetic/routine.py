"""Routine vital signs and labs added to an export, as real EHR exports hold them in bulk.

A real Bulk Data export is mostly Observations no Bedside measure reads (vital signs, routine
chemistry); the synthetic dataset holds almost only what its scenarios need. `add_routine_data`
gives each Patient of an export `per_patient` such Observations, in their own NDJSON file, so the
tests can check the measures ignore them and the benchmark can show what leaving them out saves.
The LOINC codes are real and in no measure's value set (a test checks the second).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from app.devtools.synthetic.codes import LOINC
from app.devtools.synthetic.fhir import observation

ROUTINE_FILE = "Observation-routine.ndjson"
FIRST_TAKEN = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
#: (code, display, UCUM unit, a usual value): vital signs and routine labs.
ROUTINE_TESTS = (
    ("8867-4", "Heart rate", "/min", 78.0),
    ("8310-5", "Body temperature", "Cel", 36.8),
    ("9279-1", "Respiratory rate", "/min", 16.0),
    ("8480-6", "Systolic blood pressure", "mm[Hg]", 124.0),
    ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", 97.0),
    ("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 96.0),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 13.9),
)


def add_routine_data(export: Path, per_patient: int) -> int:
    """Write `per_patient` routine Observations for each Patient of an export; return how many."""
    written = 0
    with (Path(export) / ROUTINE_FILE).open("wb") as target:
        for patient_id in patient_ids(Path(export)):
            for number in range(per_patient):
                target.write(orjson.dumps(routine_observation(patient_id, number)) + b"\n")
                written += 1
    return written


def patient_ids(export: Path) -> Iterator[str]:
    """The ids of the export's Patient resources, in file order."""
    with (export / "Patient.ndjson").open("rb") as lines:
        for line in lines:
            if line.strip():
                yield orjson.loads(line)["id"]


def routine_observation(patient_id: str, number: int) -> dict:
    """The patient's `number`th routine result: the tests in turn, a day apart."""
    code, display, unit, usual = ROUTINE_TESTS[number % len(ROUTINE_TESTS)]
    category = "vital-signs" if unit in {"/min", "Cel", "mm[Hg]", "%"} else "laboratory"
    return observation(
        f"{patient_id}-routine-{number}",
        patient_id,
        (LOINC, code, display),
        effective=FIRST_TAKEN + timedelta(days=number),
        category=category,
        quantity=(usual + number % 3, unit),
    )

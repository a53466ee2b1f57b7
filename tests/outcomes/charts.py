"""Tiny patient charts (plain FHIR dicts) for measure tests, and a one-call evaluator."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

from app.devtools.synthetic import codes, fhir
from app.library.measure_definitions import MeasureDefinition, load_measures
from app.outcomes.cases import MeasureCase
from app.outcomes.measures import evaluate_patient

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
URI = "uri-appropriate-treatment"
AAB = "bronchitis-antibiotic-avoidance"
SEPSIS = "sepsis-3h-bundle"
HF = "hfref-beta-blocker"
PHARYNGITIS = "pharyngitis-strep-testing"
AMOXICILLIN = codes.ORAL_ANTIBIOTICS[0]
CEFTRIAXONE = codes.IV_ANTIBIOTICS[0]


@cache
def measures() -> dict[str, MeasureDefinition]:
    """The repository's measures, loaded once."""
    return load_measures(CONTENT_DIR)


def at(text: str) -> datetime:
    """A UTC time from 'YYYY-MM-DDTHH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def hours(value: float) -> timedelta:
    """A timedelta of hours."""
    return timedelta(hours=value)


class Chart:
    """One patient's resources, added with short calls; ids are readable and unique."""

    def __init__(self, birth: date | None = date(1980, 1, 1), patient_id: str = "p1") -> None:
        self.patient_id = patient_id
        self.count = 0
        self.resources: list[dict] = [fhir.patient(patient_id, 1, birth, "female")]

    def next_id(self, prefix: str) -> str:
        """A fresh id."""
        self.count += 1
        return f"{prefix}-{self.count}"

    def add(self, resource: dict) -> dict:
        """Append and return a resource."""
        self.resources.append(resource)
        return resource

    def visit(
        self, start: datetime | None, kind: str = "AMB", clinician: str = "C01", **options
    ) -> str:
        """An encounter attended by `clinician` (or the given participants)."""
        encounter_id = self.next_id("enc")
        participants = options.pop("participants", [("ATND", clinician)])
        end = start + timedelta(minutes=30) if start else None
        self.add(
            fhir.encounter(encounter_id, self.patient_id, kind, start, end, participants, **options)
        )
        return encounter_id

    def condition(self, codings, encounter_id: str | None = None, **options) -> str:
        """A Condition (dates as FHIR strings via onset=/recorded=)."""
        condition_id = options.pop("condition_id", None) or self.next_id("cond")
        self.add(
            fhir.condition(
                condition_id, self.patient_id, codings, encounter_id=encounter_id, **options
            )
        )
        return condition_id

    def order(
        self, medicine, authored: datetime | None, encounter_id: str | None = None, **options
    ) -> dict:
        """A MedicationRequest."""
        return self.add(
            fhir.medication_request(
                self.next_id("med"),
                self.patient_id,
                medicine,
                authored=authored,
                requester="C01",
                encounter_id=encounter_id,
                **options,
            )
        )

    def observation(self, code, effective: datetime | None, **options) -> dict:
        """An Observation."""
        return self.add(
            fhir.observation(
                self.next_id("obs"), self.patient_id, code, effective=effective, **options
            )
        )

    def procedure(self, code, performed: datetime, encounter_id: str | None = None) -> dict:
        """A completed Procedure."""
        return self.add(
            fhir.procedure(self.next_id("proc"), self.patient_id, code, performed, encounter_id)
        )


def evaluate(measure_id: str, chart: Chart, as_of: datetime | None = None) -> list[MeasureCase]:
    """Evaluate one measure on a chart."""
    return evaluate_patient([measures()[measure_id]], chart.resources, as_of=as_of)


def only_case(measure_id: str, chart: Chart, as_of: datetime | None = None) -> MeasureCase:
    """Evaluate and return the single case the chart must produce."""
    cases = evaluate(measure_id, chart, as_of)
    assert len(cases) == 1, cases
    return cases[0]

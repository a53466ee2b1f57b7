"""Shared parts of the synthetic dataset generator: calendar, clinicians, learning, builder."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from app.devtools.synthetic.fhir import PatientFile, encounter, patient

DEFAULT_SEED = 20261031
PERIOD_START = datetime(2025, 11, 1, tzinfo=UTC)
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)  # the data end: the period is 2025-11-01..2026-10-31

PRIMARY_CARE = ("C01", "C02", "C03", "C04", "C05", "C06", "C07", "C08")
EMERGENCY = ("C09", "C10", "C11", "C12")
CARDIOLOGY = ("C13", "C14")
TRAINEE = "R01"  # a resident who appears as a non-attending participant
CLINICIANS = (*PRIMARY_CARE, *EMERGENCY, *CARDIOLOGY)

# (clinician, module, completion date, whether the generator changes behaviour afterwards)
LEARNING = (
    ("C01", "bronchitis-antibiotics-children", date(2026, 2, 15), False),
    ("C03", "uri-antibiotics-adults", date(2026, 5, 1), True),
    ("C07", "uri-antibiotics-adults", date(2026, 5, 1), True),
    ("C10", "sepsis-hour-1-bundle", date(2026, 4, 1), True),
    ("C11", "sepsis-hour-1-bundle", date(2026, 7, 1), False),
    ("C13", "hfref-gdmt", date(2026, 6, 1), True),
)
MODULE_MEASURES = {
    "uri-antibiotics-adults": ("uri-appropriate-treatment", "bronchitis-antibiotic-avoidance"),
    "bronchitis-antibiotics-children": ("bronchitis-antibiotic-avoidance",),
    "sepsis-hour-1-bundle": ("sepsis-3h-bundle",),
    "hfref-gdmt": ("hfref-beta-blocker",),
}


@dataclass(frozen=True)
class ExpectedCase:
    """The generator's ground truth for one measure case."""

    measure_id: str
    patient_key: str
    encounter_id: str
    clinician: str | None
    period_start: datetime | None
    in_denominator: bool
    excluded: bool = False
    in_numerator: bool = False
    elements: Mapping[str, bool | None] = field(default_factory=dict, hash=False)
    label: str = ""


@dataclass(frozen=True)
class Behaviour:
    """A clinician's probability of doing something, changing on a date for improvers."""

    before: float
    after: float | None = None
    change: date | None = None

    def rate(self, when: datetime) -> float:
        """The probability in force at a time."""
        changed = self.change is not None and when.date() >= self.change
        return self.after if changed and self.after is not None else self.before


class Builder:
    """Shared state of one generation run: the random source, ids, patients and ground truth."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.counters: dict[str, int] = {}
        self.patients: list[PatientFile] = []
        self.expected: list[ExpectedCase] = []

    def next_id(self, prefix: str) -> str:
        """Return the next id for a prefix, e.g. 'enc-00017'."""
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}-{self.counters[prefix]:05d}"

    def new_patient(self, birth: date | None, gender: str | None = None) -> PatientFile:
        """Start a new synthetic patient."""
        patient_id = self.next_id("pat")
        gender = gender or self.rng.choice(("female", "male"))
        record = PatientFile(patient_id)
        record.add(patient(patient_id, self.counters["pat"], birth, gender))
        self.patients.append(record)
        return record

    def birth_for_age(self, years: float, on: datetime) -> date:
        """A birth date giving roughly `years` of age on a date."""
        return (on - timedelta(days=round(years * 365.25))).date()

    def moment(self, first: datetime, last: datetime, clinic_hours: bool = True) -> datetime:
        """A random whole minute in [first, last], during 08:00-17:30 if clinic_hours."""
        while True:
            minutes = self.rng.randrange(int((last - first).total_seconds() // 60) + 1)
            chosen = first + timedelta(minutes=minutes)
            if not clinic_hours or 8 * 60 <= chosen.hour * 60 + chosen.minute <= 17 * 60 + 30:
                return chosen

    def visit(
        self,
        record: PatientFile,
        clinician: str,
        kind: str,
        start: datetime | None,
        minutes: int,
        **options,
    ) -> str:
        """Add an Encounter attended by `clinician` and return its id."""
        encounter_id = self.next_id("enc")
        participants = options.pop("participants", [("ATND", clinician)])
        end = start + timedelta(minutes=minutes) if start else None
        resource = encounter(
            encounter_id, record.patient_id, kind, start, end, participants, **options
        )
        record.add(resource)
        return encounter_id

    def expect(self, measure_id: str, record: PatientFile, encounter_id: str, **facts) -> None:
        """Record the ground truth of one case (only an eligible case can be in the numerator)."""
        clinician = facts.pop("clinician")
        eligible = facts.get("in_denominator", True) and not facts.get("excluded", False)
        facts["in_numerator"] = bool(facts.get("in_numerator")) and eligible
        self.expected.append(
            ExpectedCase(
                measure_id=measure_id,
                patient_key=record.patient_id,
                encounter_id=encounter_id,
                clinician=f"Practitioner/{clinician}" if clinician else None,
                **facts,
            )
        )


def behaviour_change(clinician: str, module_id: str) -> date | None:
    """The date a clinician's behaviour changes after completing a module (None if it does not)."""
    for who, module, completed, changes in LEARNING:
        if who == clinician and module == module_id and changes:
            return completed
    return None

"""A measure's result for one encounter or episode, and the checks every measure kind shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from app.library.measure_definitions import MeasureDefinition
from app.outcomes.fhir_data import PatientRecord, age_in_months, encounter_start, resource_id


@dataclass(frozen=True)
class MeasureCase:
    """One encounter (or episode) evaluated against one measure, with the reasons in words.

    `in_numerator` is only ever true for a case in the denominator and not excluded, so a rate is
    numerator / (denominator - excluded). `elements` holds per-element results of composite
    measures: True met, False not met, None does not apply.
    """

    measure_id: str
    patient_key: str
    encounter_id: str
    clinician: str | None
    period_start: datetime | None
    in_denominator: bool
    excluded: bool = False
    exclusion_reason: str | None = None
    in_numerator: bool = False
    reasons: tuple[str, ...] = ()
    elements: Mapping[str, bool | None] = field(default_factory=dict, hash=False)

    @property
    def eligible(self) -> bool:
        """In the denominator and not excluded: the case counts towards the rate."""
        return self.in_denominator and not self.excluded


@dataclass(slots=True)
class CaseStart:
    """What a case knows before its verdict (a MeasureCase is built once, by its verdict)."""

    measure_id: str
    patient_key: str
    encounter_id: str
    clinician: str | None
    period_start: datetime | None
    reasons: list[str]


def new_case(
    definition: MeasureDefinition,
    record: PatientRecord,
    encounter: dict,
    reasons: list[str],
    period_start: datetime | None = None,
) -> CaseStart:
    """Start a case for an encounter, attributed to its attending."""
    return CaseStart(
        definition.id,
        record.key,
        resource_id(encounter) or "unknown",
        record.clinician_of(encounter),
        period_start or encounter_start(encounter),
        reasons,
    )


def not_in_denominator(case: CaseStart, reason: str) -> MeasureCase:
    """Close a case that does not qualify, saying why."""
    return MeasureCase(
        case.measure_id,
        case.patient_key,
        case.encounter_id,
        case.clinician,
        case.period_start,
        in_denominator=False,
        reasons=(*case.reasons, reason),
    )


def conclude(
    case: CaseStart,
    exclusions: list[str],
    met: bool,
    reasons: list[str],
    elements: Mapping[str, bool | None] | None = None,
) -> MeasureCase:
    """Finish a denominator case: excluded if any exclusion holds, else in the numerator if met."""
    return MeasureCase(
        case.measure_id,
        case.patient_key,
        case.encounter_id,
        case.clinician,
        case.period_start,
        in_denominator=True,
        excluded=bool(exclusions),
        exclusion_reason="; ".join(exclusions) or None,
        in_numerator=met and not exclusions,
        reasons=(*case.reasons, *reasons, *(f"excluded: {text}" for text in exclusions)),
        elements=dict(elements or {}),
    )


def age_problem(age: Mapping[str, int], born: date | None, on: date) -> str | None:
    """Say why the patient's age on a date does not qualify, or None when it does."""
    if born is None:
        return "patient has no birth date, so age cannot be checked"
    months = age_in_months(born, on)
    if "min_months" in age and months < age["min_months"]:
        return f"aged {months} months on {on}, under {age['min_months']} months"
    if "min_years" in age and months // 12 < age["min_years"]:
        return f"aged {months // 12} years on {on}, under {age['min_years']}"
    if "max_years" in age and months // 12 >= age["max_years"]:
        return f"aged {months // 12} years on {on}, {age['max_years']} or older"
    return None

"""Guideline-directed therapy in HFrEF (CMS144-style, evidence-based beta blocker), per encounter.

HFrEF at a visit: an HFrEF Condition prevalent on the visit date, or any LVEF <= 40 % dated on or
before it. Numerator: an evidence-based beta blocker ordered on the visit date, or an earlier
order still active (status active/on-hold, not ended before the visit). Exclusions: a documented
beta-blocker allergy or intolerance, or a heart transplant or LVAD (when the measure lists those
value sets), recorded by the visit date.
"""

from __future__ import annotations

from datetime import date, datetime

from app.fhir_json import USABLE_OBSERVATION_STATUS, as_dict, as_str, finite_float
from app.library.measure_definitions import MeasureDefinition
from app.outcomes.cases import MeasureCase, age_problem, conclude, new_case, not_in_denominator
from app.outcomes.events import (
    event_day,
    event_text,
    medication_orders,
    request_end,
)
from app.outcomes.fhir_data import (
    PatientRecord,
    coded_conditions,
    coded_records,
    day_of,
    encounter_start,
    is_countable_encounter,
    is_ongoing,
    is_void,
    label,
    matching_coding,
    prevalence,
)

ACTIVE_ORDER_STATUS = {"active", "on-hold"}
LVEF_TIME_FIELDS = ("effectiveDateTime", "effectiveInstant", "effectivePeriod.start")
PERCENT_UNITS = {"%"}


def evaluate(
    definition: MeasureDefinition, record: PatientRecord, as_of: datetime | None = None
) -> list[MeasureCase]:
    """Return one case per qualifying encounter of a patient with HFrEF or an LVEF on record."""
    del as_of  # nothing in this measure waits for a follow-up window
    hfref = hfref_conditions(definition, record)
    lvefs = lvef_results(definition, record)
    if not hfref and not lvefs:
        return []
    classes = definition.criteria["encounter_classes"]
    return [
        evaluate_encounter(definition, record, encounter, hfref, lvefs)
        for encounter in record.of_type("Encounter")
        if is_countable_encounter(encounter, classes)
    ]


def evaluate_encounter(
    definition: MeasureDefinition,
    record: PatientRecord,
    encounter: dict,
    hfref: list[tuple[dict, tuple[str, str, str]]],
    lvefs: list[tuple[date, float]],
) -> MeasureCase:
    """Evaluate one visit: HFrEF at the visit, allergy exclusion, beta blocker in place."""
    case = new_case(definition, record, encounter, [])
    start = encounter_start(encounter)
    if start is None:
        return not_in_denominator(case, "encounter has no start time")
    day = start.date()
    problem = age_problem(definition.criteria["age"], record.birth_date, day)
    if problem:
        return not_in_denominator(case, problem)
    basis = hfref_basis(definition, hfref, lvefs, day)
    if basis is None:
        limit = definition.criteria["lvef"]["max_percent"]
        return not_in_denominator(case, f"no HFrEF diagnosis or LVEF <= {limit:g}% by {day}")
    exclusions = [*allergies(definition, record, day), *transplant_or_lvad(definition, record, day)]
    therapy, notes = therapy_in_place(definition, record, day)
    verdict = therapy or ["no evidence-based beta blocker ordered at or active for the visit"]
    return conclude(case, exclusions, bool(therapy), [basis, *notes, *verdict])


def hfref_conditions(
    definition: MeasureDefinition, record: PatientRecord
) -> list[tuple[dict, tuple[str, str, str]]]:
    """Return the patient's HFrEF Conditions (not refuted) with their matching coding."""
    return coded_conditions(record, definition.codes("hfref_diagnosis"))


def lvef_results(definition: MeasureDefinition, record: PatientRecord) -> list[tuple[date, float]]:
    """Return (date, percent) of every usable, timed LVEF result."""
    codes = definition.codes("lvef")
    if not record.may_match(("Observation",), codes):
        return []
    found = []
    for observation in record.of_type("Observation"):
        if as_str(observation.get("status")) not in USABLE_OBSERVATION_STATUS:
            continue
        if not matching_coding(observation.get("code"), codes):
            continue
        quantity = as_dict(observation.get("valueQuantity"))
        value = finite_float(quantity.get("value"))
        unit = as_str(quantity.get("code")) or as_str(quantity.get("unit"))
        day = day_of(event_text(observation, LVEF_TIME_FIELDS))
        if day and unit in PERCENT_UNITS and value is not None:
            found.append((day, value))
    return found


def hfref_basis(
    definition: MeasureDefinition,
    hfref: list[tuple[dict, tuple[str, str, str]]],
    lvefs: list[tuple[date, float]],
    day: date,
) -> str | None:
    """Say why the patient has HFrEF on a date, or None."""
    for condition, coding in hfref:
        span = prevalence(condition)
        if span and span[0] <= day and (span[1] is None or span[1] >= day):
            return f"HFrEF: {label(coding)} since {span[0]}"
    limit = definition.criteria["lvef"]["max_percent"]
    for measured, value in sorted(lvefs):
        if measured <= day and value <= limit:
            return f"HFrEF: LVEF {value:g}% on {measured}"
    return None


def allergies(definition: MeasureDefinition, record: PatientRecord, day: date) -> list[str]:
    """Active beta-blocker allergies or intolerances recorded by the visit date (or undated)."""
    codes = definition.codes("allergy")
    if not record.may_match(("AllergyIntolerance",), codes):
        return []
    found = []
    for allergy in record.of_type("AllergyIntolerance"):
        if is_void(allergy) or not is_ongoing(allergy):
            continue
        coding = matching_coding(allergy.get("code"), codes)
        recorded = event_day(allergy)
        if coding and (recorded is None or recorded <= day):
            found.append(f"beta-blocker allergy or intolerance: {label(coding)}")
    return found


def transplant_or_lvad(
    definition: MeasureDefinition, record: PatientRecord, day: date
) -> list[str]:
    """Heart transplant or LVAD procedures and complications by the visit date (or undated)."""
    if "heart_transplant_or_lvad" not in definition.criteria:
        return []
    codes = definition.codes("heart_transplant_or_lvad")
    found = []
    for resource, coding in coded_records(record, ("Procedure", "Condition"), codes):
        happened = event_day(resource)
        if happened is None or happened <= day:
            when = f" on {happened}" if happened else " (undated)"
            found.append(f"heart transplant or LVAD: {label(coding)}{when}")
    return found


def therapy_in_place(
    definition: MeasureDefinition, record: PatientRecord, day: date
) -> tuple[list[str], list[str]]:
    """Return (orders that satisfy the numerator, notes on orders that cannot be placed)."""
    found, notes = [], []
    for request, coding in medication_orders(record, definition.codes("therapy")):
        authored = day_of(request.get("authoredOn"))
        if authored is None:
            notes.append(f"{label(coding)} has no authoredOn: not counted")
        elif authored == day:
            found.append(f"{label(coding)} prescribed at the visit")
        elif authored < day and still_active(request, day):
            found.append(f"{label(coding)} active since {authored}")
    return found, notes


def still_active(request: dict, day: date) -> bool:
    """An earlier order that is active or on hold and has not ended before the day."""
    end = request_end(request)
    return as_str(request.get("status")) in ACTIVE_ORDER_STATUS and (end is None or end >= day)

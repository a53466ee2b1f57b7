"""Antibiotic avoidance for URI and acute bronchitis (CMS154 / HEDIS URI-AAB style), per encounter.

The measure YAML states the boundaries in words; this module implements exactly those:
antibiotic window [start, start + 72 h] (datetime precision, both ends inclusive); competing
diagnoses linked to the encounter or dated day 0 to day 3 (date precision); comorbidities whose
prevalence overlaps the year up to the encounter date; antibiotic history [start - 30 d, start);
hospice evidence from 365 days before to 3 days after.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from app.library.measure_definitions import MeasureDefinition
from app.outcomes.cases import MeasureCase, age_problem, conclude, new_case, not_in_denominator
from app.outcomes.events import (
    event_day,
    medication_orders,
    request_end,
)
from app.outcomes.fhir_data import (
    PatientRecord,
    coded_conditions,
    coded_records,
    condition_dates,
    diagnoses_at,
    encounter_class,
    encounter_start,
    hours,
    is_countable_encounter,
    label,
    prevalence,
    resource_id,
    stamp,
    timed,
    years_before,
)

HOSPICE_TYPES = ("Procedure", "ServiceRequest", "Condition", "Observation", "Encounter")


def evaluate(
    definition: MeasureDefinition, record: PatientRecord, as_of: datetime | None = None
) -> list[MeasureCase]:
    """Return one case per encounter that carries a diagnosis of the measure's value set."""
    return [
        evaluate_encounter(definition, record, encounter, diagnosis, as_of)
        for encounter, diagnosis in diagnosed_encounters(definition, record)
    ]


def diagnosed_encounters(
    definition: MeasureDefinition, record: PatientRecord
) -> Iterator[tuple[dict, tuple[str, str, str]]]:
    """Yield (encounter, its first coding in the diagnosis value sets) per diagnosed encounter."""
    codes = definition.codes("diagnosis")
    if not record.may_match(("Condition",), codes):
        return
    for encounter in record.of_type("Encounter"):
        first = next(diagnoses_at(record, encounter, codes), None)
        if first is not None:
            yield encounter, first[1]


def evaluate_encounter(
    definition: MeasureDefinition,
    record: PatientRecord,
    encounter: dict,
    diagnosis: tuple[str, str, str],
    as_of: datetime | None,
) -> MeasureCase:
    """Evaluate one diagnosed encounter: population, exclusions, then the antibiotic window."""
    case = new_case(definition, record, encounter, [f"diagnosis: {label(diagnosis)}"])
    start = encounter_start(encounter)
    problem = population_problem(definition, record, encounter, start, as_of)
    if problem or start is None:
        return not_in_denominator(case, problem or "encounter has no start time")
    exclusions = exclusion_reasons(definition, record, encounter, start)
    prescribed, notes = antibiotics_in_window(definition, record, encounter, start)
    window = definition.criteria["antibiotic"]["window_hours_after_start"]
    verdict = prescribed or [f"no antibiotic ordered in [start, start + {window} h]: appropriate"]
    return conclude(case, exclusions, met=not prescribed, reasons=[*notes, *verdict])


def exclusion_reasons(
    definition: MeasureDefinition, record: PatientRecord, encounter: dict, start: datetime
) -> list[str]:
    """Why the encounter is excluded: competing or comorbid diagnoses, prior antibiotic, hospice."""
    return [
        *competing_diagnoses(definition, record, encounter, start),
        *comorbid_conditions(definition, record, encounter, start),
        *antibiotic_history(definition, record, start),
        *hospice_evidence(definition, record, start),
    ]


def population_problem(
    definition: MeasureDefinition,
    record: PatientRecord,
    encounter: dict,
    start: datetime | None,
    as_of: datetime | None,
) -> str | None:
    """Say why the encounter is not in the denominator, or None when it is."""
    criteria = definition.criteria
    if not is_countable_encounter(encounter, criteria["encounter_classes"]):
        kind, status = encounter_class(encounter), encounter.get("status")
        return f"encounter class {kind} with status {status} does not qualify"
    if start is None:
        return "encounter has no start time"
    problem = age_problem(criteria["age"], record.birth_date, start.date())
    if problem:
        return problem
    window_end = start + hours(criteria["antibiotic"]["window_hours_after_start"])
    if as_of is not None and window_end > as_of:
        return f"antibiotic window ends {stamp(window_end)}, after the data end {stamp(as_of)}"
    return None


def antibiotic_orders(
    definition: MeasureDefinition, record: PatientRecord
) -> list[tuple[dict, tuple[str, str, str]]]:
    """(MedicationRequest, matching coding) of every real antibiotic order (once per record)."""
    return medication_orders(record, definition.codes("antibiotic"))


def antibiotics_in_window(
    definition: MeasureDefinition, record: PatientRecord, encounter: dict, start: datetime
) -> tuple[list[str], list[str]]:
    """Return (antibiotics prescribed in the window, notes on orders that cannot be placed)."""
    window = definition.criteria["antibiotic"]["window_hours_after_start"]
    prescribed, notes = [], []
    for request, coding in antibiotic_orders(definition, record):
        authored = timed(request.get("authoredOn"))
        if authored is None and resource_id(encounter) in record.encounter_ids_of(request):
            prescribed.append(
                f"antibiotic {label(coding)} ordered at this encounter, no authoredOn"
            )
        elif authored is None:
            notes.append(f"antibiotic {label(coding)} has no authoredOn and no encounter: ignored")
        elif start <= authored <= start + hours(window):
            after = (authored - start) / timedelta(hours=1)
            prescribed.append(
                f"antibiotic {label(coding)} authored {stamp(authored)}, {after:g} h after start"
            )
    return prescribed, notes


def competing_diagnoses(
    definition: MeasureDefinition, record: PatientRecord, encounter: dict, start: datetime
) -> list[str]:
    """Competing diagnoses linked to the encounter or dated day 0 to day N (date precision)."""
    section = definition.criteria["competing_diagnosis"]
    codes = definition.codes("competing_diagnosis")
    first = start.date()
    last = first + timedelta(days=section["days_after_start"])
    found = []
    for condition, coding in coded_conditions(record, codes):
        dated = [d for d in condition_dates(condition) if first <= d <= last]
        if resource_id(encounter) in record.encounter_ids_of(condition):
            found.append(f"competing diagnosis {label(coding)} at this encounter")
        elif dated:
            day = (dated[0] - first).days
            found.append(f"competing diagnosis {label(coding)} on {dated[0]} (day {day})")
    return found


def comorbid_conditions(
    definition: MeasureDefinition, record: PatientRecord, encounter: dict, start: datetime
) -> list[str]:
    """Comorbid conditions whose prevalence overlaps the look-back up to the encounter date."""
    years = definition.criteria["comorbid_condition"]["lookback_years"]
    codes = definition.codes("comorbid_condition")
    day = start.date()
    first = years_before(day, years)
    found = []
    for condition, coding in coded_conditions(record, codes):
        span = prevalence(condition)
        if span is None and resource_id(encounter) in record.encounter_ids_of(condition):
            span = (day, None)
        if span and span[0] <= day and (span[1] is None or span[1] >= first):
            found.append(f"comorbid condition {label(coding)} (since {span[0]})")
    return found


def antibiotic_history(
    definition: MeasureDefinition, record: PatientRecord, start: datetime
) -> list[str]:
    """Antibiotic orders authored, or active by their end date, in [start - N days, start)."""
    days = definition.criteria["antibiotic"]["history_days_before_start"]
    begin = start - timedelta(days=days)
    found = []
    for request, coding in antibiotic_orders(definition, record):
        authored = timed(request.get("authoredOn"))
        if authored is None or authored >= start:
            continue
        if active_until(authored, request_end(request)) >= begin:
            found.append(f"antibiotic {label(coding)} authored {stamp(authored)}, before the visit")
    return found


def active_until(authored: datetime, end: date | None) -> datetime:
    """Return the last moment an order was active: the end of its end date, else its authoring."""
    if end is None:
        return authored
    return max(authored, datetime.combine(end, time(23, 59, 59), tzinfo=authored.tzinfo or UTC))


def hospice_evidence(
    definition: MeasureDefinition, record: PatientRecord, start: datetime
) -> list[str]:
    """Hospice care, referral, admission or status dated within the hospice look-around."""
    section = definition.criteria["hospice"]
    codes = definition.codes("hospice")
    first = start.date() - timedelta(days=section["days_before_start"])
    last = start.date() + timedelta(days=section["days_after_start"])
    found = []
    for resource, coding in coded_records(record, HOSPICE_TYPES, codes):
        day = event_day(resource)
        if day and first <= day <= last:
            found.append(f"hospice: {label(coding)} on {day}")
    return found

"""SEP-1-like sepsis bundle per episode: lactate, cultures before antibiotics, antibiotics, repeat.

Boundaries (all configurable in the measure YAML, all inclusive): initial lactate in
[T0 - 6 h, T0 + 3 h]; blood cultures in [T0 - 48 h, T0 + 3 h] and at or before the first
antibiotic; antibiotic in [T0 - 24 h, T0 + 3 h]; repeat lactate after the initial one and by
T0 + 6 h when the initial lactate is > 2 mmol/L. Missing times never meet an element.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.fhir_json import as_dict, codings_of
from app.library.measure_definitions import MeasureDefinition
from app.outcomes.cases import MeasureCase, age_problem, conclude, new_case, not_in_denominator
from app.outcomes.events import event_time
from app.outcomes.fhir_data import (
    PatientRecord,
    coded_records,
    condition_times,
    diagnoses_at,
    encounter_class,
    encounter_start,
    hours,
    is_countable_encounter,
    label,
    matching_coding,
    stamp,
)
from app.outcomes.sepsis_elements import Element, antibiotic_courses, bundle_elements

ELEMENT_NAMES = ("initial_lactate", "blood_cultures", "antibiotic", "repeat_lactate")
COMFORT_CARE_TYPES = ("Procedure", "ServiceRequest", "Condition", "Observation")


@dataclass(frozen=True)
class Episode:
    """A sepsis episode: its encounter, its time zero (None if unknown) and how T0 was found."""

    encounter: dict
    time_zero: datetime | None
    explanation: str


def evaluate(
    definition: MeasureDefinition, record: PatientRecord, as_of: datetime | None = None
) -> list[MeasureCase]:
    """Return one case per encounter with a sepsis diagnosis."""
    codes = definition.codes("sepsis")
    if not record.may_match(("Condition",), codes):
        return []
    cases = []
    for encounter in record.of_type("Encounter"):
        diagnoses = [condition for condition, _ in diagnoses_at(record, encounter, codes)]
        if diagnoses:
            episode = find_time_zero(encounter, diagnoses)
            cases.append(evaluate_episode(definition, record, episode, diagnoses[0], as_of))
    return cases


def find_time_zero(encounter: dict, diagnoses: list[dict]) -> Episode:
    """Time zero: the earliest timed onset/recorded time, but not before arrival."""
    times = [moment for condition in diagnoses for moment in condition_times(condition)]
    if not times:
        return Episode(encounter, None, "time zero unknown: no sepsis onset or recorded time")
    earliest, arrival = min(times), encounter_start(encounter)
    if arrival is not None and earliest < arrival:
        explanation = f"time zero {stamp(arrival)}: arrival (sepsis from {stamp(earliest)})"
        return Episode(encounter, arrival, explanation)
    return Episode(encounter, earliest, f"time zero {stamp(earliest)}: sepsis onset/recorded")


def evaluate_episode(
    definition: MeasureDefinition,
    record: PatientRecord,
    episode: Episode,
    diagnosis: dict,
    as_of: datetime | None,
) -> MeasureCase:
    """Evaluate one episode: population, exclusions, then each bundle element."""
    encounter, t0 = episode.encounter, episode.time_zero
    coding = matching_coding(diagnosis.get("code"), definition.codes("sepsis"))
    reasons = [f"sepsis: {label(coding) if coding else 'diagnosis'}", episode.explanation]
    case = new_case(definition, record, encounter, reasons, period_start=t0)
    problem = population_problem(definition, record, episode, as_of)
    if problem:
        return not_in_denominator(case, problem)
    exclusions = [
        *transfer_in(definition, encounter),
        *comfort_care(definition, record, episode),
        *antibiotics_already_running(definition, record, episode),
    ]
    if t0 is None:
        elements = dict.fromkeys(ELEMENT_NAMES[:3], False) | {"repeat_lactate": None}
        return conclude(case, exclusions, False, ["every element not met"], elements)
    results: dict[str, Element] = bundle_elements(definition, record, encounter, t0)
    elements = {name: results[name].met for name in ELEMENT_NAMES}
    met = all(value is not False for value in elements.values())
    notes = [f"{name}: {results[name].reason}" for name in ELEMENT_NAMES]
    return conclude(case, exclusions, met, notes, elements)


def population_problem(
    definition: MeasureDefinition, record: PatientRecord, episode: Episode, as_of: datetime | None
) -> str | None:
    """Say why the episode is not in the denominator, or None when it is."""
    criteria, encounter = definition.criteria, episode.encounter
    if not is_countable_encounter(encounter, criteria["encounter_classes"]):
        kind, status = encounter_class(encounter), encounter.get("status")
        return f"encounter class {kind} with status {status} does not qualify"
    anchor = encounter_start(encounter) or episode.time_zero
    if anchor is None:
        return "neither time zero nor the encounter start is known"
    problem = age_problem(criteria["age"], record.birth_date, anchor.date())
    if problem:
        return problem
    reference = episode.time_zero or anchor
    window_end = reference + hours(criteria["lactate"]["repeat_hours_after"])
    if as_of is not None and window_end > as_of:
        return f"6-hour window ends {stamp(window_end)}, after the data end {stamp(as_of)}"
    return None


def transfer_in(definition: MeasureDefinition, encounter: dict) -> list[str]:
    """A transfer from another acute care hospital (Encounter.hospitalization.admitSource)."""
    sources = set(definition.criteria["exclusions"]["transfer_admit_sources"])
    admit = as_dict(as_dict(encounter.get("hospitalization")).get("admitSource"))
    codes = {code for _, code, _ in codings_of(admit)}
    return [f"transferred in (admitSource {code})" for code in sorted(codes & sources)]


def comfort_care(
    definition: MeasureDefinition, record: PatientRecord, episode: Episode
) -> list[str]:
    """Comfort or hospice care timed from N h before to M h after time zero (or arrival)."""
    section = definition.criteria["exclusions"]["comfort_care"]
    codes = definition.codes("exclusions", "comfort_care")
    anchor = episode.time_zero or encounter_start(episode.encounter)
    if anchor is None:
        return []
    first, last = anchor - hours(section["hours_before"]), anchor + hours(section["hours_after"])
    found = []
    for resource, coding in coded_records(record, COMFORT_CARE_TYPES, codes):
        moment = event_time(resource)
        if moment and first <= moment <= last:
            found.append(f"comfort care: {label(coding)} at {stamp(moment)}")
    return found


def antibiotics_already_running(
    definition: MeasureDefinition, record: PatientRecord, episode: Episode
) -> list[str]:
    """A course started more than N h before time zero and still being given in those N h."""
    limit = definition.criteria["exclusions"].get("antibiotics_running_hours_before")
    t0 = episode.time_zero
    if limit is None or t0 is None:
        return []
    start = t0 - hours(limit)
    return [
        f"on antibiotics for more than {limit:g} h before time zero: {course.name} from "
        f"{stamp(course.time)}, last given {stamp(course.last_given)}"
        for course in antibiotic_courses(definition, record, episode.encounter)
        if course.time is not None
        and course.time < start
        and course.last_given is not None
        and start <= course.last_given <= t0
    ]

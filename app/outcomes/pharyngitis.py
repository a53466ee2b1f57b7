"""Appropriate testing for pharyngitis (CMS146 style): a strep test when an antibiotic is ordered.

The measure YAML states the boundaries in words; this module implements exactly those. The
population is a pharyngitis or tonsillitis visit followed by an antibiotic order in
[start, start + 72 h]; the exclusions are those of the respiratory measures (competing diagnosis,
comorbid condition, antibiotic history, hospice); the numerator is a resulted group A strep test
whose effective time is in [start - 72 h, start + 72 h] (datetime precision, both ends inclusive).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.fhir_json import as_str
from app.library.measure_definitions import MeasureDefinition
from app.outcomes import respiratory
from app.outcomes.cases import MeasureCase, conclude, new_case, not_in_denominator
from app.outcomes.events import event_time
from app.outcomes.fhir_data import (
    PatientRecord,
    encounter_start,
    hours,
    label,
    matching_coding,
    resource_id,
    stamp,
)

RESULTED_STATUS = {"final", "amended", "corrected"}  # CMS146: a laboratory test performed


def evaluate(
    definition: MeasureDefinition, record: PatientRecord, as_of: datetime | None = None
) -> list[MeasureCase]:
    """Return one case per encounter that carries a pharyngitis or tonsillitis diagnosis."""
    return [
        evaluate_encounter(definition, record, encounter, diagnosis, as_of)
        for encounter, diagnosis in respiratory.diagnosed_encounters(definition, record)
    ]


def evaluate_encounter(
    definition: MeasureDefinition,
    record: PatientRecord,
    encounter: dict,
    diagnosis: tuple[str, str, str],
    as_of: datetime | None,
) -> MeasureCase:
    """Evaluate one diagnosed encounter: antibiotic, population, exclusions, then the test."""
    case = new_case(definition, record, encounter, [f"diagnosis: {label(diagnosis)}"])
    start = encounter_start(encounter)
    problem = population_problem(definition, record, encounter, start, as_of)
    if problem or start is None:
        return not_in_denominator(case, problem or "encounter has no start time")
    prescribed, notes = respiratory.antibiotics_in_window(definition, record, encounter, start)
    if not prescribed:
        window = definition.criteria["antibiotic"]["window_hours_after_start"]
        return not_in_denominator(
            case, f"no antibiotic ordered in [start, start + {window} h]: not in the population"
        )
    exclusions = respiratory.exclusion_reasons(definition, record, encounter, start)
    tests, test_notes = strep_tests(definition, record, encounter, start)
    verdict = tests or [f"no group A strep test resulted in {strep_window_words(definition)}"]
    reasons = [*notes, prescribed[0], *test_notes, *verdict]
    return conclude(case, exclusions, met=bool(tests), reasons=reasons)


def population_problem(
    definition: MeasureDefinition,
    record: PatientRecord,
    encounter: dict,
    start: datetime | None,
    as_of: datetime | None,
) -> str | None:
    """Say why the encounter cannot be in the denominator, or None when it can."""
    problem = respiratory.population_problem(definition, record, encounter, start, as_of)
    if problem or start is None:
        return problem
    test_end = start + hours(definition.criteria["strep_test"]["hours_after_start"])
    if as_of is not None and test_end > as_of:
        return f"strep test window ends {stamp(test_end)}, after the data end {stamp(as_of)}"
    return None


def strep_tests(
    definition: MeasureDefinition, record: PatientRecord, encounter: dict, start: datetime
) -> tuple[list[str], list[str]]:
    """Return (resulted tests in the window, notes on tests that cannot be placed in time)."""
    section = definition.criteria["strep_test"]
    codes = definition.codes("strep_test")
    first = start - hours(section["hours_before_start"])
    last = start + hours(section["hours_after_start"])
    found, notes = [], []
    if not record.may_match(("Observation",), codes):
        return found, notes
    for observation in record.of_type("Observation"):
        coding = matching_coding(observation.get("code"), codes)
        if coding is None or not has_result(observation):
            continue
        when = event_time(observation)
        if when is None and resource_id(encounter) in record.encounter_ids_of(observation):
            found.append(f"strep test {label(coding)} resulted at this encounter, no time")
        elif when is None:
            notes.append(f"strep test {label(coding)} has no effective time and no encounter")
        elif first <= when <= last:
            offset = (when - start) / timedelta(hours=1)
            found.append(f"strep test {label(coding)} at {stamp(when)} ({offset:+g} h)")
    return found, notes


def has_result(observation: dict) -> bool:
    """A final, amended or corrected Observation that carries a value (whatever it shows)."""
    if as_str(observation.get("status")) not in RESULTED_STATUS:
        return False
    return any(
        name.startswith("value") and value not in (None, "", {}, [])
        for name, value in observation.items()
    )


def strep_window_words(definition: MeasureDefinition) -> str:
    """The strep test window in words, for a case's reasons."""
    section = definition.criteria["strep_test"]
    return f"[start - {section['hours_before_start']} h, start + {section['hours_after_start']} h]"

"""Compute practice measures from FHIR R4 resources, one patient at a time (streaming-friendly).

Pure functions: no Flask, HTTP or SQL. The input is an iterable of per-patient resource groups
(plain dicts), so a Bulk Data NDJSON export, a FHIR server or the synthetic generator can feed it
without loading every patient at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime

from app.fhir_json import JsonObject
from app.library.measure_definitions import MeasureDefinition
from app.outcomes import heart_failure, pharyngitis, respiratory, sepsis
from app.outcomes.cases import MeasureCase
from app.outcomes.facts import ValueSetGate
from app.outcomes.fhir_data import PatientRecord

Evaluator = Callable[[MeasureDefinition, PatientRecord, datetime | None], list[MeasureCase]]

EVALUATORS: dict[str, Evaluator] = {
    "respiratory-antibiotic-avoidance": respiratory.evaluate,
    "sepsis-bundle": sepsis.evaluate,
    "hfref-therapy": heart_failure.evaluate,
    "pharyngitis-testing": pharyngitis.evaluate,
}

#: Types every evaluator reads only through a coding in one of its measure's value sets
#: (`may_match`, `coded_conditions`, `coded_records`, and the Observation loops that match each
#: code first): a resource of these types with none of those codings changes no case.
VALUE_SET_GATED_TYPES = frozenset(
    {"AllergyIntolerance", "Condition", "Observation", "Procedure", "ServiceRequest"}
)


class UnknownMeasureKind(Exception):
    """A measure whose `kind` has no computation."""


def evaluate_patient(
    definitions: Iterable[MeasureDefinition],
    resources: Iterable[JsonObject],
    *,
    as_of: datetime | None = None,
) -> list[MeasureCase]:
    """Evaluate every measure on one patient's resources.

    `as_of` is when the data end: cases whose follow-up window is still open then are reported as
    not in the denominator (they would change once more data arrive).
    """
    record = PatientRecord.from_resources(resources)
    cases: list[MeasureCase] = []
    with record.evaluating():
        for definition in definitions:
            cases.extend(evaluator_for(definition)(definition, record, as_of))
    return cases


def evaluate_patients(
    definitions: Iterable[MeasureDefinition],
    patients: Iterable[Iterable[JsonObject]],
    *,
    as_of: datetime | None = None,
) -> Iterator[MeasureCase]:
    """Evaluate every measure on each patient's resource group, yielding cases as they come."""
    definitions = list(definitions)
    for definition in definitions:
        evaluator_for(definition)
    for resources in patients:
        yield from evaluate_patient(definitions, resources, as_of=as_of)


def evaluator_for(definition: MeasureDefinition) -> Evaluator:
    """Return the computation for a measure's kind."""
    try:
        return EVALUATORS[definition.kind]
    except KeyError:
        message = f"measure {definition.id}: no computation for {definition.kind!r}"
        raise UnknownMeasureKind(message) from None


def value_set_gate(definitions: Iterable[MeasureDefinition]) -> ValueSetGate:
    """What the measures can read: gated types only with a code of one of their value sets."""
    codes = frozenset().union(
        *(members for definition in definitions for members in definition.value_sets.values())
    )
    return ValueSetGate(VALUE_SET_GATED_TYPES, codes)


def cases_by_measure(cases: Iterable[MeasureCase]) -> Mapping[str, list[MeasureCase]]:
    """Group cases by measure id, keeping their order."""
    grouped: dict[str, list[MeasureCase]] = {}
    for case in cases:
        grouped.setdefault(case.measure_id, []).append(case)
    return grouped

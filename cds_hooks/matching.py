"""Pure matching: PatientContext + compiled library index → ranked module matches with evidence."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from app.fhir_json import Coding
from app.units import with_unit
from cds_hooks.patient_context import CodedItem, ObservationItem, PatientContext

COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
SYSTEM_LABELS = {
    "http://snomed.info/sct": "SNOMED CT",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://loinc.org": "LOINC",
}
KIND_LABELS = {
    "condition": "Active condition",
    "medication": "Current medication",
    "draft_order": "Draft order",
    "allergy": "Allergy",
    "service_request": "Order placed",
}
INDICATOR_WEIGHT = {"critical": 3, "warning": 2, "info": 1}
DRAFT_ORDER_BONUS = 3  # the order being written now is the most relevant moment to teach


class TimeBudgetExceeded(Exception):
    """A hook call's computation ran past its time budget and was stopped (no cards)."""


#: Raises TimeBudgetExceeded once the call's deadline has passed; run often while matching.
TimeCheck = Callable[[], None]


def no_time_limit() -> None:
    """The time check of a call without a deadline: never stops it."""


@dataclass(frozen=True)
class Criterion:
    """One compiled trigger criterion: what to look at, which codes, and any threshold."""

    kind: str
    codes: frozenset[tuple[str, str]]
    name: str | None = None
    comparator: str | None = None
    value: float | None = None
    unit: str | None = None
    also_units: Mapping[str, float] = field(default_factory=dict)
    within_hours: float | None = None
    any_status: bool = False  # observations: also registered, partial, unknown… (it was done)
    persistent_days: float | None = None  # observations: the threshold has held this long
    unless: tuple[Criterion, ...] = ()  # the criterion does not count when any of these holds


@dataclass(frozen=True)
class Evidence:
    """The patient data that satisfied a criterion, in words and codes."""

    kind: str
    text: str
    value_text: str
    coding: Coding
    name: str | None = None

    def describe(self) -> str:
        """Say what triggered, e.g. 'Lactate 3.1 mmol/L (LOINC 2524-7)'."""
        system, code, _ = self.coding
        label = SYSTEM_LABELS.get(system, system)
        return f"{self.text} ({label} {code})"


@dataclass(frozen=True)
class Match:
    """A module that fits this patient now, why it fits, and how relevant it is."""

    module_id: str
    score: int
    evidence: tuple[Evidence, ...]

    def named_values(self) -> dict[str, str]:
        """Return the evidence values by their `as:` names, for the summary template."""
        return {item.name: item.value_text for item in self.evidence if item.name}


@dataclass(frozen=True)
class CompiledModule:
    """A module's triggers, compiled for fast evaluation."""

    module_id: str
    hooks: frozenset[str]
    all_of: tuple[Criterion, ...]
    any_of: tuple[Criterion, ...]
    none_of: tuple[Criterion, ...]
    min_years: float | None
    max_years: float | None
    sex: str | None
    indicator_weight: int
    fhirpath: Callable[[PatientContext, TimeCheck], bool] | None = None


def match_modules(
    index: LibraryIndexLike, context: PatientContext, check_time: TimeCheck = no_time_limit
) -> list[Match]:
    """Return every module whose triggers hold for this context, most relevant first.

    check_time runs before each module and, in FHIRPath conditions, at each resource read.
    """
    candidate_ids = index.candidates(context.codes())
    matches = []
    for module_id in sorted(candidate_ids):
        check_time()
        module = index.modules[module_id]
        found = evaluate(module, context, check_time)
        if found is not None:
            matches.append(found)
    matches.sort(key=lambda found: (-found.score, found.module_id))
    return matches


class LibraryIndexLike:
    """The shape match_modules needs: compiled modules and a code → candidates lookup."""

    modules: Mapping[str, CompiledModule]

    def candidates(self, codes: set[tuple[str, str]]) -> set[str]:
        """Return the ids of modules indexed under any of the codes."""
        raise NotImplementedError


def evaluate(
    module: CompiledModule, context: PatientContext, check_time: TimeCheck = no_time_limit
) -> Match | None:
    """Return a Match when every trigger of the module holds, else None."""
    if context.hook not in module.hooks or not demographics_fit(module, context):
        return None
    required = [satisfy(criterion, context) for criterion in module.all_of]
    if any(evidence is None for evidence in required):
        return None
    optional = [satisfy(criterion, context) for criterion in module.any_of]
    if module.any_of and all(evidence is None for evidence in optional):
        return None
    exclusions = (satisfy(criterion, context, as_trigger=False) for criterion in module.none_of)
    if any(evidence is not None for evidence in exclusions):
        return None
    if module.fhirpath is not None and not module.fhirpath(context, check_time):
        return None
    evidence = tuple(item for item in (*required, *optional) if item is not None)
    return Match(module.module_id, relevance(module, evidence), evidence)


def demographics_fit(module: CompiledModule, context: PatientContext) -> bool:
    """Check age and sex filters; an unknown age or sex never passes a filter on it."""
    if module.min_years is not None or module.max_years is not None:
        if context.age_years is None:
            return False
        if module.min_years is not None and context.age_years < module.min_years:
            return False
        if module.max_years is not None and context.age_years >= module.max_years:
            return False
    return module.sex is None or context.sex == module.sex


def relevance(module: CompiledModule, evidence: tuple[Evidence, ...]) -> int:
    """Score a match: more corroborating data, a draft order, a stronger indicator rank higher."""
    draft_bonus = DRAFT_ORDER_BONUS if any(e.kind == "draft_order" for e in evidence) else 0
    return len(evidence) + draft_bonus + module.indicator_weight


def satisfy(
    criterion: Criterion, context: PatientContext, *, as_trigger: bool = True
) -> Evidence | None:
    """Return the evidence satisfying one criterion, or None (also when an `unless` holds).

    A trigger (all_of, any_of) fires on the draft orders acted on now; an exclusion (none_of,
    unless) also sees the other drafts: what is ordered alongside is not asked for again.
    """
    evidence = satisfy_own(criterion, context, as_trigger)
    if evidence is None:
        return None
    if any(satisfy(other, context, as_trigger=False) for other in criterion.unless):
        return None
    return evidence


def satisfy_own(
    criterion: Criterion, context: PatientContext, as_trigger: bool = True
) -> Evidence | None:
    """Return the evidence satisfying the criterion itself, ignoring `unless`."""
    if criterion.kind == "observation":
        return satisfy_observation(criterion, context)
    for item in coded_items(criterion.kind, context, as_trigger):
        coding = first_coding_in(item.codings, criterion.codes)
        if coding is not None and within_window(item, criterion, context):
            text = f"{KIND_LABELS[criterion.kind]}: {coding[2] or item.display}"
            return Evidence(criterion.kind, text, coding[2] or item.display, coding, criterion.name)
    return None


def coded_items(kind: str, context: PatientContext, as_trigger: bool) -> list[CodedItem]:
    """The items a criterion of this kind reads: as a trigger, only the drafts acted on now."""
    if kind == "draft_order":
        return context.selected_orders if as_trigger else context.draft_orders
    return {
        "condition": context.conditions,
        "medication": context.medications,
        "allergy": context.allergies,
        "service_request": context.service_requests,
    }[kind]


def satisfy_observation(criterion: Criterion, context: PatientContext) -> Evidence | None:
    """Check the most recent matching observation in the window against the threshold."""
    latest: tuple[ObservationItem, Coding] | None = None
    for item in context.observations:
        coding = first_coding_in(item.codings, criterion.codes)
        if coding is None or not within_window(item, criterion, context):
            continue
        if not (item.usable or criterion.any_status):
            continue
        if latest is None or is_later(item, latest[0]):
            latest = (item, coding)
    if latest is None:
        return None
    item, coding = latest
    if criterion.comparator is not None and not meets_threshold(item, criterion):
        return None
    if criterion.persistent_days is not None and not has_persisted(criterion, context):
        return None
    value_text = quantity_text(item)
    text = f"{coding[2] or item.display} {value_text}".strip()
    return Evidence("observation", text, value_text, coding, criterion.name)


def within_window(
    item: ObservationItem | CodedItem, criterion: Criterion, context: PatientContext
) -> bool:
    """Tell whether the observation or placed order falls in the look-back window."""
    if criterion.within_hours is None:
        return True
    if item.when is None:
        return False
    return context.now - timedelta(hours=criterion.within_hours) <= item.when <= context.now


def has_persisted(criterion: Criterion, context: PatientContext) -> bool:
    """Tell whether the latest readings meeting the threshold, unbroken, span persistent_days."""
    dated = sorted(
        (
            (item.when, item)
            for item in context.observations
            if item.when is not None
            and (item.usable or criterion.any_status)
            and first_coding_in(item.codings, criterion.codes) is not None
            and within_window(item, criterion, context)
        ),
        key=lambda pair: pair[0],
        reverse=True,
    )
    if not dated or not meets_threshold(dated[0][1], criterion):
        return False
    latest = earliest = dated[0][0]
    for when, item in dated[1:]:
        if not meets_threshold(item, criterion):
            break
        earliest = when
    return latest - earliest >= timedelta(days=criterion.persistent_days or 0)


def is_later(item: ObservationItem, other: ObservationItem) -> bool:
    """Order observations by time; an undated one is older than any dated one."""
    if item.when is None:
        return False
    return other.when is None or item.when > other.when


def meets_threshold(item: ObservationItem, criterion: Criterion) -> bool:
    """Compare the observation's value, converted to the criterion's unit, with the threshold."""
    value = converted_value(item, criterion)
    if value is None or criterion.value is None or criterion.comparator is None:
        return False
    return COMPARATORS[criterion.comparator](value, criterion.value)


def converted_value(item: ObservationItem, criterion: Criterion) -> float | None:
    """Return the value in the criterion's unit, or None when it cannot be converted."""
    if item.value is None or item.unit is None:
        return None
    if criterion.unit is None or same_unit(item.unit, criterion.unit):
        return item.value
    for unit, factor in criterion.also_units.items():
        if same_unit(item.unit, unit):
            return item.value * factor
    return None


def same_unit(left: str, right: str) -> bool:
    """Compare UCUM units, forgiving the common l/L spelling difference."""
    return left == right or left.replace("l", "L") == right.replace("l", "L")


def quantity_text(item: ObservationItem) -> str:
    """Format an observation value with its unit as a clinician reads it, e.g. '38.3 °C'."""
    if item.value is None:
        return ""
    return with_unit(f"{item.value:g}", {"code": item.unit})


def first_coding_in(
    codings: tuple[Coding, ...], codes: frozenset[tuple[str, str]]
) -> Coding | None:
    """Return the first coding whose (system, code) is in the set."""
    for coding in codings:
        if (coding[0], coding[1]) in codes:
            return coding
    return None

"""One patient's FHIR resources, indexed, and the robust field readers the measures share."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from app.fhir_json import (
    REFUTED_VERIFICATION,
    as_dict,
    as_str,
    codings_of,
    dicts_in,
    first_coding_in,
    parse_time,
    reference_id,
    status_code,
)
from app.outcomes.facts import CodedFacts

Code = tuple[str, str]
T = TypeVar("T")

ORDER_INTENTS = {"order", "original-order", "reflex-order", "filler-order", "instance-order"}
VOID_REQUEST_STATUS = {"cancelled", "entered-in-error", "draft", "revoked"}
VOID_EVENT_STATUS = {"entered-in-error", "not-done", "cancelled"}
VOID_ENCOUNTER_STATUS = {"planned", "cancelled", "entered-in-error"}
ONGOING_CLINICAL_STATUS = {None, "active", "recurrence", "relapse"}
ATTRIBUTION_ROLES = ("ATND", "PPRF")
MAX_REMEMBERED_TIMES = 4096
UNANSWERED = object()  # PatientRecord.answer's mark for a question not asked yet
# The `times` of the record this thread (or task) is evaluating (see PatientRecord.evaluating):
# each thread sees only its own, and none outside an evaluation, so no parse is shared.
_evaluated_times: ContextVar[dict[str, datetime | None] | None] = ContextVar(
    "_evaluated_times", default=None
)


@dataclass
class PatientRecord:
    """A patient's resources by type, plus Encounter.diagnosis links, for measure computation."""

    patient: dict | None
    by_type: dict[str, list[dict]] = field(default_factory=dict)
    diagnosis_links: dict[str, set[str]] = field(default_factory=dict)
    # of_type's answers by types, and encounter_ids_of's by id(resource) with its resource
    resources_by_types: dict[tuple[str, ...], list[dict]] = field(
        default_factory=dict, repr=False, compare=False
    )
    encounters_by_resource: dict[int, tuple[dict, set[str]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # what several measures ask of the same record, answered once (see `answer`), and each
    # encounter's attributed clinician by id(encounter)
    answers: dict[Hashable, Any] = field(default_factory=dict, repr=False, compare=False)
    clinicians_by_encounter: dict[int, tuple[dict, str | None]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # parse_time's answers for this patient's texts: the measures read the same encounter starts
    # and order times many times per patient (kept per record, so a replicated export's repeated
    # timestamps never count as hits across patients)
    times: dict[str, datetime | None] = field(default_factory=dict, repr=False, compare=False)
    # what the patient's resources are coded with, by type (gathered as types are asked), and
    # the birth date: plain attributes, since a cached_property takes a lock on each first read
    facts: CodedFacts = field(init=False, repr=False, compare=False)
    birth_date: date | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Set up the coded facts and read the birth date."""
        self.facts = CodedFacts(self.by_type)
        born = parse_time(as_dict(self.patient).get("birthDate"))
        self.birth_date = born.date() if born else None

    @classmethod
    def from_resources(cls, resources: Iterable[dict]) -> PatientRecord:
        """Index one patient's resources (anything that is not a JSON object is skipped)."""
        by_type: dict[str, list[dict]] = defaultdict(list)
        for resource in resources:
            if isinstance(resource, dict) and as_str(resource.get("resourceType")):
                by_type[resource["resourceType"]].append(resource)
        patients = by_type.get("Patient", [])
        record = cls(patient=patients[0] if patients else None, by_type=dict(by_type))
        for encounter in record.of_type("Encounter"):
            for diagnosis in dicts_in(encounter.get("diagnosis")):
                condition_id = reference_id(diagnosis.get("condition"), "Condition")
                if condition_id and as_str(encounter.get("id")):
                    record.diagnosis_links.setdefault(condition_id, set()).add(encounter["id"])
        return record

    def evaluating(self) -> Evaluating:
        """Within the block, this thread's timed and day_of remember their answers in `times`."""
        return Evaluating(self)

    @property
    def key(self) -> str:
        """The patient's logical id (pseudonymise before exporting it)."""
        return as_str(as_dict(self.patient).get("id")) or "unknown"

    def of_type(self, *resource_types: str) -> list[dict]:
        """Return the patient's resources of the given types (the record's own list: read only)."""
        if len(resource_types) == 1:
            return self.by_type.get(resource_types[0], [])
        found = self.resources_by_types.get(resource_types)
        if found is None:
            found = self.resources_by_types[resource_types] = [
                r for kind in resource_types for r in self.by_type.get(kind, [])
            ]
        return found

    def may_match(self, resource_types: tuple[str, ...], codes: frozenset[Code]) -> bool:
        """False when no resource of the types can carry a coding in codes (a set intersection)."""
        return self.facts.may_match(resource_types, codes)

    def answer(self, question: Hashable, work: Callable[[], T]) -> T:
        """work()'s answer to a question about this record, worked out the first time it is asked.

        The measures share value sets (hospice, comorbidities, antibiotics): the resources that
        match one are found once per patient, not once per measure and encounter.
        """
        known = self.answers.get(question, UNANSWERED)
        if known is UNANSWERED:  # most questions are asked once: no KeyError raised for them
            known = self.answers[question] = work()
        return known  # type: ignore[no-any-return]

    def clinician_of(self, encounter: dict) -> str | None:
        """The encounter's attributed Practitioner reference (see `attending`), read once."""
        known = self.clinicians_by_encounter.get(id(encounter))
        if known is None:
            known = self.clinicians_by_encounter[id(encounter)] = (encounter, attending(encounter))
        return known[1]

    def encounter_ids_of(self, resource: dict) -> set[str]:
        """Return the encounters a resource is linked to (own reference or Encounter.diagnosis)."""
        known = self.encounters_by_resource.get(id(resource))
        if known is None:
            known = self.encounters_by_resource[id(resource)] = (
                resource,
                self._encounter_ids_of(resource),
            )
        return known[1]

    def _encounter_ids_of(self, resource: dict) -> set[str]:
        """encounter_ids_of, worked out."""
        linked = set(self.diagnosis_links.get(as_str(resource.get("id")) or "", set()))
        own = reference_id(resource.get("encounter") or resource.get("context"), "Encounter")
        return linked | ({own} if own else set())


class Evaluating:
    """The context of PatientRecord.evaluating (a class: cheaper than a generator per patient)."""

    __slots__ = ("record", "token")

    def __init__(self, record: PatientRecord) -> None:
        self.record = record

    def __enter__(self) -> PatientRecord:
        self.token = _evaluated_times.set(self.record.times)
        return self.record

    def __exit__(self, *_exception: object) -> None:
        _evaluated_times.reset(self.token)


def timed(text: object) -> datetime | None:
    """Parse a FHIR dateTime only when it has a time of day (date-only values are not times)."""
    return patient_time(text) if isinstance(text, str) and "T" in text else None


def day_of(text: object) -> date | None:
    """Return the calendar date written in a FHIR date or dateTime."""
    moment = patient_time(text) if isinstance(text, str) else None
    return moment.date() if moment else None


def patient_time(text: str) -> datetime | None:
    """parse_time, remembered in the times of the record being evaluated (if any)."""
    times = _evaluated_times.get()
    if times is None:
        return parse_time(text)
    try:
        return times[text]
    except KeyError:
        if len(times) >= MAX_REMEMBERED_TIMES:
            times.clear()
        moment = times[text] = parse_time(text)
        return moment


def matching_coding(concept: object, codes: frozenset[Code]) -> tuple[str, str, str] | None:
    """Return the first (system, code, display) of a CodeableConcept that is in codes."""
    return first_coding_in(concept, codes)


def label(coding: tuple[str, str, str]) -> str:
    """Say which coding matched, for a case's reasons."""
    system, code, display = coding
    return f"{display or system} [{code}]"


def is_void(resource: dict) -> bool:
    """A refuted or entered-in-error Condition or AllergyIntolerance."""
    return status_code(resource.get("verificationStatus")) in REFUTED_VERIFICATION


def is_ongoing(resource: dict) -> bool:
    """A clinical status of active, recurrence, relapse, or none stated."""
    return status_code(resource.get("clinicalStatus")) in ONGOING_CLINICAL_STATUS


def condition_dates(condition: dict) -> list[date]:
    """Return the onset and recorded dates of a Condition (either may be missing)."""
    onset = condition.get("onsetDateTime") or as_dict(condition.get("onsetPeriod")).get("start")
    return [d for d in (day_of(onset), day_of(condition.get("recordedDate"))) if d]


def condition_times(condition: dict) -> list[datetime]:
    """Return the onset and recorded times that carry a time of day."""
    onset = condition.get("onsetDateTime") or as_dict(condition.get("onsetPeriod")).get("start")
    return [t for t in (timed(onset), timed(condition.get("recordedDate"))) if t]


def prevalence(condition: dict) -> tuple[date, date | None] | None:
    """Return (start, end) dates of a Condition; end None while ongoing; None if undated."""
    dates = condition_dates(condition)
    if not dates:
        return None
    start = dates[0]
    abatement = condition.get("abatementDateTime") or as_dict(condition.get("abatementPeriod")).get(
        "end"
    )
    end = day_of(abatement)
    if end is None and not is_ongoing(condition):
        end = start
    return start, end


def resource_id(resource: dict) -> str | None:
    """A resource's id when it is a non-empty string (any other value links nothing)."""
    return as_str(resource.get("id"))


def encounter_start(encounter: dict) -> datetime | None:
    """Return Encounter.period.start with its time, or None."""
    return timed(as_dict(encounter.get("period")).get("start"))


def encounter_end(encounter: dict) -> datetime | None:
    """Return Encounter.period.end with its time, or None."""
    return timed(as_dict(encounter.get("period")).get("end"))


def encounter_class(encounter: dict) -> str | None:
    """Return the v3-ActCode of Encounter.class (a Coding in R4)."""
    return as_str(as_dict(encounter.get("class")).get("code"))


def is_countable_encounter(encounter: dict, classes: Iterable[str]) -> bool:
    """An encounter of a qualifying class that took place (not planned, cancelled or void)."""
    status = as_str(encounter.get("status"))
    return encounter_class(encounter) in set(classes) and status not in VOID_ENCOUNTER_STATUS


def attending(encounter: dict) -> str | None:
    """Return the attributed Practitioner reference: ATND, else PPRF, else the first one."""
    participants = []
    for participant in dicts_in(encounter.get("participant")):
        practitioner = reference_id(participant.get("individual"), "Practitioner")
        if practitioner:
            roles = {
                code for t in dicts_in(participant.get("type")) for _, code, _ in codings_of(t)
            }
            participants.append((roles, f"Practitioner/{practitioner}"))
    for role in ATTRIBUTION_ROLES:
        for roles, reference in participants:
            if role in roles:
                return reference
    return participants[0][1] if participants else None


def age_in_months(born: date, on: date) -> int:
    """Return completed months of age on a date."""
    months = (on.year - born.year) * 12 + on.month - born.month
    return months - (on.day < born.day)


def years_before(day: date, years: int) -> date:
    """Return the same calendar date `years` earlier (28 Feb for 29 Feb)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@functools.cache  # the measures' few window lengths, asked for on every case
def hours(value: float) -> timedelta:
    """A timedelta of `value` hours."""
    return timedelta(hours=value)


def stamp(moment: datetime | None) -> str:
    """Format a time for a reason string: "%Y-%m-%dT%H:%MZ" in UTC."""
    if not moment:
        return "(no time)"
    utc = moment.astimezone(UTC)
    if utc.year < 1000:  # strftime's %Y pads (or not) as the platform's C library does
        return utc.strftime("%Y-%m-%dT%H:%MZ")
    return f"{utc.year}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}Z"


def is_recorded(resource: dict) -> bool:
    """Not entered in error, cancelled, revoked, draft or not done (nor a refuted Condition)."""
    return as_str(resource.get("status")) not in VOID_EVENT_STATUS | VOID_REQUEST_STATUS and not (
        is_void(resource)
    )


def concepts_of(resource: dict) -> list[dict]:
    """Return the CodeableConcepts that say what a resource is (code, Encounter.type, value)."""
    return [
        as_dict(resource.get("code")),
        *dicts_in(resource.get("type")),
        as_dict(resource.get("valueCodeableConcept")),
    ]


def coded_match(resource: dict, codes: frozenset[Code]) -> tuple[str, str, str] | None:
    """Return the first coding of a resource's concepts that is in codes."""
    for concept in concepts_of(resource):
        coding = matching_coding(concept, codes)
        if coding:
            return coding
    return None


def coded_conditions(
    record: PatientRecord, codes: frozenset[Code]
) -> list[tuple[dict, tuple[str, str, str]]]:
    """(condition, coding) of every Condition that is not void and has a code in codes."""
    return record.answer(("coded_conditions", codes), lambda: _coded_conditions(record, codes))


def _coded_conditions(
    record: PatientRecord, codes: frozenset[Code]
) -> list[tuple[dict, tuple[str, str, str]]]:
    """coded_conditions, worked out."""
    if not record.may_match(("Condition",), codes):
        return []
    found = []
    for condition in record.of_type("Condition"):
        coding = None if is_void(condition) else matching_coding(condition.get("code"), codes)
        if coding is not None:
            found.append((condition, coding))
    return found


def coded_records(
    record: PatientRecord, resource_types: tuple[str, ...], codes: frozenset[Code]
) -> list[tuple[dict, tuple[str, str, str]]]:
    """(resource, coding) of the recorded resources of the types with a concept in codes."""
    return record.answer(
        ("coded_records", resource_types, codes),
        lambda: (
            [
                (resource, coding)
                for resource in record.of_type(*resource_types)
                if is_recorded(resource) and (coding := coded_match(resource, codes))
            ]
            if record.may_match(resource_types, codes)
            else []
        ),
    )


def diagnoses_at(record: PatientRecord, encounter: dict, codes: frozenset[Code]):
    """Yield (condition, coding) for the encounter's conditions with a code in codes.

    The encounter's conditions are those linked to it, or unlinked ones dated within its dates.
    Only the Conditions coded in the value set are placed (once per record), so an encounter
    never reads the patient's other Conditions.
    """
    diagnoses = placed_diagnoses(record, codes)
    if not diagnoses:
        return
    encounter_id = as_str(encounter.get("id"))
    start = encounter_start(encounter)
    end = encounter_end(encounter) or start
    for condition, coding, links, days in diagnoses:
        if links:
            if encounter_id in links:
                yield condition, coding
        elif start and end and any(start.date() <= day <= end.date() for day in days):
            yield condition, coding


def placed_diagnoses(
    record: PatientRecord, codes: frozenset[Code]
) -> list[tuple[dict, tuple[str, str, str], set[str], list[date]]]:
    """(condition, coding, linked encounters, dates) of each placed Condition coded in codes."""
    return record.answer(
        ("placed_diagnoses", codes),
        lambda: [
            (condition, coding, record.encounter_ids_of(condition), condition_dates(condition))
            for condition, coding in coded_conditions(record, codes)
        ],
    )

"""The SEP-1-like bundle elements, each judged from time zero with its reason in words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.fhir_json import USABLE_OBSERVATION_STATUS, as_str
from app.library.measure_definitions import MeasureDefinition
from app.outcomes.courses import Course, courses
from app.outcomes.events import event_time, performed_time, quantity_value
from app.outcomes.fhir_data import (
    PatientRecord,
    hours,
    is_recorded,
    matching_coding,
    resource_id,
    stamp,
)


@dataclass(frozen=True)
class Element:
    """One bundle element: met (True), not met (False) or does not apply (None), and why."""

    met: bool | None
    reason: str


@dataclass
class Evidence:
    """The timed facts of one episode that the elements are judged on."""

    lactates: list[tuple[datetime, float | None]] = field(default_factory=list)
    cultures: list[datetime] = field(default_factory=list)
    antibiotics: list[tuple[datetime, str]] = field(default_factory=list)
    untimed_antibiotics: list[str] = field(default_factory=list)


def bundle_elements(
    definition: MeasureDefinition, record: PatientRecord, encounter: dict, t0: datetime
) -> dict[str, Element]:
    """Judge the four elements of one episode with a known time zero."""
    criteria = definition.criteria
    evidence = gather(definition, record, encounter, t0)
    initial = initial_lactate(criteria["lactate"], evidence, t0)
    return {
        "initial_lactate": initial_lactate_element(criteria["lactate"], initial),
        "blood_cultures": culture_element(criteria["blood_culture"], evidence, t0),
        "antibiotic": antibiotic_element(criteria["antibiotic"], evidence, t0),
        "repeat_lactate": repeat_element(criteria["lactate"], evidence, t0, initial),
    }


def gather(
    definition: MeasureDefinition, record: PatientRecord, encounter: dict, t0: datetime
) -> Evidence:
    """Collect lactates, culture collections and antibiotics relevant to the episode."""
    evidence = Evidence()
    spec = definition.criteria["lactate"]
    lactate_codes, culture_codes = definition.codes("lactate"), definition.codes("blood_culture")
    for observation in record.of_type("Observation"):
        if as_str(observation.get("status")) not in USABLE_OBSERVATION_STATUS:
            continue
        when = event_time(observation)
        if when and matching_coding(observation.get("code"), lactate_codes):
            value = quantity_value(
                observation.get("valueQuantity"), spec["unit"], spec.get("also_units", {})
            )
            evidence.lactates.append((when, value))
    for resource in record.of_type("Observation", "Procedure", "ServiceRequest"):
        if culture_collected(resource) and matching_coding(resource.get("code"), culture_codes):
            when = performed_time(resource)
            if when:
                evidence.cultures.append(when)
    gather_antibiotics(definition, record, encounter, t0, evidence)
    evidence.lactates.sort(key=lambda item: item[0])
    return evidence


def culture_collected(resource: dict) -> bool:
    """A culture that was collected: recorded, and a ServiceRequest only once completed."""
    if resource.get("resourceType") == "ServiceRequest":
        return resource.get("status") == "completed"
    return is_recorded(resource)


def gather_antibiotics(
    definition: MeasureDefinition,
    record: PatientRecord,
    encounter: dict,
    t0: datetime,
    evidence: Evidence,
) -> None:
    """Collect antibiotic courses of this encounter (or unlinked), timed from the look-back on."""
    earliest = t0 - hours(definition.criteria["antibiotic"]["hours_before"])
    for course in antibiotic_courses(definition, record, encounter):
        if course.time is None and course.encounters:
            evidence.untimed_antibiotics.append(course.name)
        elif course.time is not None and course.time >= earliest:
            evidence.antibiotics.append((course.time, f"{course.name} {course.how}"))
    evidence.antibiotics.sort()


def antibiotic_courses(
    definition: MeasureDefinition, record: PatientRecord, encounter: dict
) -> list[Course]:
    """Antibiotic courses of this encounter (or unlinked) by an allowed route (or none recorded)."""
    spec = definition.criteria["antibiotic"]
    allowed_routes = definition.codes("antibiotic", "route") if "route" in spec else None
    found = []
    for course in courses(record, definition.codes("antibiotic")):
        if course.encounters and resource_id(encounter) not in course.encounters:
            continue
        if allowed_routes is not None and course.routes and not course.routes & allowed_routes:
            continue  # a route is recorded and none is an allowed one (e.g. oral, not IV)
        found.append(course)
    return found


def initial_lactate(
    spec: dict, evidence: Evidence, t0: datetime
) -> tuple[datetime, float | None] | None:
    """The earliest lactate with a value drawn in [T0 - before, T0 + after]."""
    first, last = t0 - hours(spec["initial_hours_before"]), t0 + hours(spec["initial_hours_after"])
    for when, value in evidence.lactates:
        if first <= when <= last and value is not None:
            return when, value
    return None


def initial_lactate_element(spec: dict, initial: tuple[datetime, float | None] | None) -> Element:
    """Initial lactate measured in its window."""
    if initial is None:
        window = (
            f"[T0 - {spec['initial_hours_before']:g} h, T0 + {spec['initial_hours_after']:g} h]"
        )
        return Element(False, f"no timed lactate with a value in {window}")
    return Element(True, f"{initial[1]:g} {spec['unit']} at {stamp(initial[0])}")


def repeat_element(
    spec: dict, evidence: Evidence, t0: datetime, initial: tuple[datetime, float | None] | None
) -> Element:
    """Repeat lactate by T0 + N h, required only when the initial one is above the threshold."""
    if initial is None:
        return Element(None, "does not apply (no initial lactate)")
    drawn, value = initial
    if value is None or value <= spec["repeat_if_above"]:
        return Element(None, f"not required (initial {value:g} <= {spec['repeat_if_above']:g})")
    deadline = t0 + hours(spec["repeat_hours_after"])
    for when, _ in evidence.lactates:
        if drawn < when <= deadline:
            return Element(True, f"repeated at {stamp(when)}")
    return Element(
        False, f"initial {value:g} > {spec['repeat_if_above']:g}, none by {stamp(deadline)}"
    )


def antibiotic_element(spec: dict, evidence: Evidence, t0: datetime) -> Element:
    """An antibiotic timed in [T0 - before, T0 + after]."""
    first, last = t0 - hours(spec["hours_before"]), t0 + hours(spec["hours_after"])
    for when, name in evidence.antibiotics:
        if first <= when <= last:
            return Element(True, f"{name} at {stamp(when)}")
    if evidence.antibiotics:
        when, name = evidence.antibiotics[0]
        return Element(False, f"first antibiotic {name} at {stamp(when)}, after {stamp(last)}")
    if evidence.untimed_antibiotics:
        return Element(False, f"{evidence.untimed_antibiotics[0]} has no time")
    return Element(False, "no antibiotic")


def culture_element(spec: dict, evidence: Evidence, t0: datetime) -> Element:
    """Blood cultures in their window and at or before the first antibiotic."""
    first, last = t0 - hours(spec["hours_before"]), t0 + hours(spec["hours_after"])
    drawn = [when for when in evidence.cultures if first <= when <= last]
    if not drawn:
        return Element(False, f"no blood culture collected in [{stamp(first)}, {stamp(last)}]")
    if evidence.untimed_antibiotics:
        name = evidence.untimed_antibiotics[0]
        return Element(False, f"{name} has no time, so cultures-first cannot be verified")
    if not evidence.antibiotics:
        return Element(True, f"collected {stamp(drawn[0])}; no antibiotic given")
    first_antibiotic = evidence.antibiotics[0][0]
    before = [when for when in drawn if when <= first_antibiotic]
    if before:
        return Element(
            True, f"collected {stamp(min(before))}, first antibiotic {stamp(first_antibiotic)}"
        )
    return Element(
        False,
        f"collected {stamp(min(drawn))}, after the first antibiotic {stamp(first_antibiotic)}",
    )

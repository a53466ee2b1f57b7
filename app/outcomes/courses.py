"""Medication courses: an order with the administrations that reference it, timed when first given.

A course's time is its earliest timed administration (MedicationAdministration.effective[x]) when
one is recorded, else its order's authoredOn. Administrations are tied to their order only through
MedicationAdministration.request; one that references no known order is a course of its own.
Its routes are every coded route of its order's dosage instructions and its administrations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.fhir_json import as_dict, as_str, codings_of, dicts_in, reference_id
from app.outcomes.events import MEDICATION_ORDER_TYPES, event_time, is_order, medication_coding
from app.outcomes.fhir_data import VOID_EVENT_STATUS, Code, PatientRecord, label

COURSE_TYPES = (*MEDICATION_ORDER_TYPES, "MedicationAdministration")


@dataclass(frozen=True)
class Course:
    """One course of a medicine: what it was, when it started, how that time is known, where."""

    name: str
    time: datetime | None
    how: str  # "given" (an administration time) or "ordered" (the order's authoredOn)
    encounters: frozenset[str]
    routes: frozenset[tuple[str, str]] = frozenset()  # (system, code) of every recorded route
    last_given: datetime | None = None  # the latest timed administration, if any


def courses(record: PatientRecord, codes: frozenset[Code]) -> list[Course]:
    """Every course of a medicine in codes: orders with their administrations, then lone ones.

    Worked out once per record and value set: a sepsis episode asks twice (its antibiotic
    element and its exclusion for antibiotics already running).
    """
    return record.answer(("courses", codes), lambda: _courses(record, codes))


def _courses(record: PatientRecord, codes: frozenset[Code]) -> list[Course]:
    """courses, worked out."""
    if not record.may_match(COURSE_TYPES, codes):
        return []
    orders = [request for request in record.of_type("MedicationRequest") if is_order(request)]
    position = {as_str(o.get("id")): i for i, o in enumerate(orders) if as_str(o.get("id"))}
    given: dict[int | None, list[dict]] = {}
    for administration in record.of_type("MedicationAdministration"):
        if as_str(administration.get("status")) not in VOID_EVENT_STATUS:
            request_id = reference_id(administration.get("request"), "MedicationRequest")
            given.setdefault(position.get(request_id), []).append(administration)
    found = [order_course(record, codes, order, given.get(i, [])) for i, order in enumerate(orders)]
    found += [order_course(record, codes, None, [lone]) for lone in given.get(None, [])]
    return [course for course in found if course is not None]


def order_course(
    record: PatientRecord, codes: frozenset[Code], order: dict | None, administrations: list[dict]
) -> Course | None:
    """The course of one order (or of one lone administration), if its medicine is in codes."""
    parts = [*administrations, *([order] if order else [])]
    coding = next(filter(None, (medication_coding(part, record, codes) for part in parts)), None)
    if coding is None:
        return None
    encounters = frozenset(e for part in parts for e in record.encounter_ids_of(part))
    routes = route_codes(parts)
    times = [when for when in map(event_time, administrations) if when is not None]
    if times:
        return Course(label(coding), min(times), "given", encounters, routes, max(times))
    authored = event_time(order) if order else None
    return Course(label(coding), authored, "ordered" if order else "given", encounters, routes)


def route_codes(parts: list[dict]) -> frozenset[tuple[str, str]]:
    """(system, code) of the routes in orders' dosageInstruction and administrations' dosage."""
    dosages = [
        dosage
        for part in parts
        for dosage in (*dicts_in(part.get("dosageInstruction")), as_dict(part.get("dosage")))
    ]
    return frozenset(
        (system, code)
        for dosage in dosages
        for system, code, _ in codings_of(as_dict(dosage.get("route")))
    )

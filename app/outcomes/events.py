"""When things happened and what was ordered: event times, orders and quantities from FHIR dicts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from app.fhir_json import as_dict, as_str, dicts_in, finite_float, reference_id
from app.outcomes.fhir_data import (
    ORDER_INTENTS,
    VOID_REQUEST_STATUS,
    Code,
    PatientRecord,
    day_of,
    matching_coding,
    timed,
)

#: Where a request's medicine is coded: itself (inline or contained) or a Medication it references.
MEDICATION_ORDER_TYPES = ("MedicationRequest", "Medication")
OCCURRENCE_FIELDS = ("occurrenceDateTime", "occurrencePeriod.start")
EVENT_TIME_FIELDS = {
    "Observation": ("effectiveDateTime", "effectiveInstant", "effectivePeriod.start"),
    "Procedure": ("performedDateTime", "performedPeriod.start"),
    "ServiceRequest": (*OCCURRENCE_FIELDS, "authoredOn"),
    "MedicationAdministration": ("effectiveDateTime", "effectivePeriod.start"),
    "MedicationRequest": ("authoredOn",),
    "Condition": ("onsetDateTime", "onsetPeriod.start", "recordedDate"),
    "AllergyIntolerance": ("onsetDateTime", "recordedDate"),
    "Encounter": ("period.start",),
}


def is_order(request: dict) -> bool:
    """A real order: an order intent, not cancelled/void/draft, not 'do not perform'."""
    return (
        as_str(request.get("intent")) in ORDER_INTENTS
        and as_str(request.get("status")) not in VOID_REQUEST_STATUS
        and request.get("doNotPerform") is not True
    )


def medication_orders(
    record: PatientRecord, codes: frozenset[Code]
) -> list[tuple[dict, tuple[str, str, str]]]:
    """(MedicationRequest, matching coding) of every real order of a medicine in codes.

    Worked out once per record and value set: every encounter of a measure asks it again.
    """
    return record.answer(("medication_orders", codes), lambda: _medication_orders(record, codes))


def _medication_orders(
    record: PatientRecord, codes: frozenset[Code]
) -> list[tuple[dict, tuple[str, str, str]]]:
    """medication_orders, worked out."""
    if not record.may_match(MEDICATION_ORDER_TYPES, codes):
        return []
    found = []
    for request in record.of_type("MedicationRequest"):
        coding = medication_coding(request, record, codes) if is_order(request) else None
        if coding:
            found.append((request, coding))
    return found


def medication_coding(
    resource: dict, record: PatientRecord, codes: frozenset[Code]
) -> tuple[str, str, str] | None:
    """Return the medication coding of a request/administration if it is in codes."""
    return matching_coding(medication_concept(resource, record), codes)


def medication_concept(resource: dict, record: PatientRecord) -> dict | None:
    """The medication CodeableConcept: inline, a contained `#id`, or a referenced Medication."""
    inline = as_dict(resource.get("medicationCodeableConcept"))
    if inline:
        return inline
    reference = as_dict(resource.get("medicationReference"))
    text = as_str(reference.get("reference")) or ""
    if text.startswith("#"):
        candidates, wanted = dicts_in(resource.get("contained")), text[1:]
    else:
        candidates, wanted = record.of_type("Medication"), reference_id(reference, "Medication")
    for medication in candidates if wanted else ():
        if medication.get("resourceType") == "Medication" and medication.get("id") == wanted:
            return as_dict(medication.get("code"))
    return None


def request_end(request: dict) -> date | None:
    """Return when a MedicationRequest stops: validity period end, else the latest dosage bound."""
    ends = [
        day_of(as_dict(as_dict(request.get("dispenseRequest")).get("validityPeriod")).get("end"))
    ]
    for dosage in dicts_in(request.get("dosageInstruction")):
        bounds = as_dict(as_dict(as_dict(dosage.get("timing")).get("repeat")).get("boundsPeriod"))
        ends.append(day_of(bounds.get("end")))
    known = [end for end in ends if end]
    return max(known) if known else None


def event_text(resource: dict, fields: Iterable[str] | None = None) -> str | None:
    """Return the first recorded time field of a resource, as written (None if there is none)."""
    kind = as_str(resource.get("resourceType")) or ""
    for path in fields if fields is not None else EVENT_TIME_FIELDS.get(kind, ()):
        name, _, child = path.partition(".")
        value = as_dict(resource.get(name)).get(child) if child else resource.get(name)
        if as_str(value):
            return value
    return None


def event_time(resource: dict, fields: Iterable[str] | None = None) -> datetime | None:
    """Return when a resource happened, only if recorded with a time of day."""
    return timed(event_text(resource, fields))


def performed_time(resource: dict) -> datetime | None:
    """When a resource was done: an order's occurrence (not its authoring), else its time."""
    if resource.get("resourceType") == "ServiceRequest":
        return event_time(resource, OCCURRENCE_FIELDS)
    return event_time(resource)


def event_day(resource: dict) -> date | None:
    """Return the date a resource happened on."""
    return day_of(event_text(resource))


def quantity_value(quantity: object, unit: str, also_units: dict[str, float]) -> float | None:
    """Return a Quantity's value converted to `unit`, or None if absent or in an unknown unit."""
    quantity = as_dict(quantity)
    value = finite_float(quantity.get("value"))
    if value is None:
        return None
    written = as_str(quantity.get("code")) or as_str(quantity.get("unit"))
    if written == unit:
        return value
    factor = also_units.get(written or "")
    return value * factor if factor else None

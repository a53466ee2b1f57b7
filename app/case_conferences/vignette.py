"""Draft a teaching vignette from a launched encounter's FHIR data, de-identified (pure).

Day 0 is the encounter's start (else the record's earliest date); every date becomes a day
relative to it. Only coded facts and their texts are read (age, sex, state, the reason for the
encounter, problems, observations, medications, allergies), and every text goes through the Safe
Harbor scrubber with the record's own identifying values, so a name or number typed into a
display text never comes out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from app.case_conferences.deidentify import (
    Identifiers,
    age_group,
    as_date,
    record_identifiers,
    relative_day,
    scrub_text,
    state_of,
)
from app.fhir_json import as_dict, as_str, dicts_in

SEXES = {"female": "woman", "male": "man"}
CHILDREN = {"female": "girl", "male": "boy"}
ADULT_AGE = 18
ENCOUNTER_DAY = "Day 0 is the day of the encounter."
EARLIEST_DAY = "Day 0 is the earliest date in the record."
SECTIONS = (
    ("Condition", "Problems", "onsetDateTime"),
    ("Observation", "Findings", "effectiveDateTime"),
    ("MedicationRequest", "Medications", "authoredOn"),
    ("AllergyIntolerance", "Allergies", "recordedDate"),
)


def draft_vignette(resources: Iterable[Mapping[str, object]]) -> str:
    """A Markdown vignette of the encounter with the Safe Harbor identifiers removed."""
    resources = list(resources)
    identifiers = record_identifiers(resources)
    patient = first_of(resources, "Patient")
    encounter = first_of(resources, "Encounter")
    encounter_day = as_date(as_dict(encounter.get("period")).get("start"))
    day0 = encounter_day or earliest_date(resources)
    anchor = ENCOUNTER_DAY if encounter_day else EARLIEST_DAY
    lines = [f"{opening(patient, day0)} {anchor}", ""]
    for reason in dicts_in(encounter.get("reasonCode")):
        lines += [f"Reason for the encounter: {clean(concept_text(reason), identifiers, day0)}", ""]
    for kind, heading, when_field in SECTIONS:
        entries = [
            entry_line(resource, when_field, identifiers, day0)
            for resource in resources
            if resource.get("resourceType") == kind
        ]
        if entries:
            lines += [f"**{heading}**", "", *entries, ""]
    return "\n".join(lines).strip() + "\n"


def opening(patient: Mapping[str, object], day0: date | None) -> str:
    """'A 67-year-old woman from Oregon.': age (grouped over 89), sex and state only."""
    born = as_date(patient.get("birthDate"))
    age = age_group(born, day0) if born and day0 else None
    young = age is not None and age.isdigit() and int(age) < ADULT_AGE
    sexes = CHILDREN if young else SEXES
    sex = sexes.get(as_str(patient.get("gender")) or "", "child" if young else "person")
    state = state_of(patient)
    who = f"A {sex}"
    if age:
        who = f"A {age}-year-old {sex}" if age.isdigit() else f"A {sex} aged {age}"
    place = f" from {state}" if state else ""
    return f"{who}{place}."


def entry_line(
    resource: Mapping[str, object], when_field: str, identifiers: Identifiers, day0: date | None
) -> str:
    """One bullet: what it is, its value, and its relative day."""
    concept = resource.get("code") or resource.get("medicationCodeableConcept")
    text = concept_text(as_dict(concept))
    value = quantity_text(as_dict(resource.get("valueQuantity")))
    components = [
        f"{concept_text(as_dict(c.get('code')))} {quantity_text(as_dict(c.get('valueQuantity')))}"
        for c in dicts_in(resource.get("component"))
    ]
    detail = ", ".join(part for part in [value, *components] if part.strip())
    when = as_date(resource.get(when_field))
    day = f" ({relative_day(when, day0)})" if when and day0 else ""
    body = f"{text}: {detail}" if detail else text
    return f"- {clean(body, identifiers, day0)}{day}"


def concept_text(concept: Mapping[str, object]) -> str:
    """A CodeableConcept's text, else its first coding's display."""
    for coding in dicts_in(concept.get("coding")):
        display = as_str(coding.get("display"))
        if display:
            return as_str(concept.get("text")) or display
    return as_str(concept.get("text")) or "(not named)"


def quantity_text(quantity: Mapping[str, object]) -> str:
    """'38.9 Cel' from a Quantity (empty when it has no number)."""
    value = quantity.get("value")
    if not isinstance(value, int | float):
        return ""
    unit = as_str(quantity.get("unit")) or as_str(quantity.get("code")) or ""
    return f"{value:g} {unit}".strip()


def clean(text: str, identifiers: Identifiers, day0: date | None) -> str:
    """Scrub a text and keep it to one Markdown line."""
    return " ".join(scrub_text(text, identifiers, day0).split())


def first_of(resources: list[Mapping[str, object]], kind: str) -> Mapping[str, object]:
    """The first resource of a type (an empty one when there is none)."""
    return next((r for r in resources if r.get("resourceType") == kind), {})


def earliest_date(resources: list[Mapping[str, object]]) -> date | None:
    """The earliest clinical date in the resources, for day 0 when there is no encounter."""
    dates = [
        as_date(resource.get(field))
        for resource in resources
        for _, _, field in SECTIONS
        if resource.get(field)
    ]
    known = [d for d in dates if d]
    return min(known) if known else None

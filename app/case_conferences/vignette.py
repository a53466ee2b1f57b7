"""Draft a teaching vignette from a launched encounter's FHIR data, de-identified (pure).

Day 0 is the encounter's start (else the record's earliest date); every date becomes a day
relative to it. Only coded facts and their texts are read (age, sex, state, the reason for the
encounter, problems, observations, medications, allergies), and every text goes through the Safe
Harbor scrubber with the record's own identifying values, so a name or number typed into a
display text never comes out. What the record withdrew is left out, by the filters the measures
use: a cancelled or entered-in-error observation or order, a refuted or entered-in-error problem
or allergy, and one no longer current (inactive, resolved). A vignette longer than a case holds
(VIGNETTE_MAX) keeps its first whole lines and says that entries were left out.

The vignette is drafted in the author's UI language: its sentences are English templates looked
up through a gettext-like `translate` the page passes in (this module has no Flask and Babel does
not scan it; app/ui/conference_views.py marks every template for the catalogues, and a test checks
the two lists agree). Texts from the record (problem names, units) stay as the record gives them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date

from app.case_conferences.deidentify import (
    OLDEST_GROUP,
    Identifiers,
    age_group,
    as_date,
    record_identifiers,
    scrub_text,
    state_of,
)
from app.fhir_json import VOID_OBSERVATION_STATUS, as_dict, as_str, dicts_in, finite_float
from app.outcomes.fhir_data import VOID_REQUEST_STATUS, is_ongoing, is_void

Translate = Callable[[str], str]
VIGNETTE_MAX = 8000  # the longest vignette a teaching case holds, in characters
ADULTS = {"female": "woman", "male": "man"}
CHILDREN = {"female": "girl", "male": "boy"}
ADULT_AGE = 18
SEX_WORDS = ("woman", "man", "person")  # adults; "aged 90 or older" and no age are adults too
# Who the patient is, by age form and the word for their sex: one whole phrase each, so that a
# language whose article and adjectives agree with the noun can translate it.
OPENINGS = {
    **{("years", sex): f"A {{age}}-year-old {sex}" for sex in (*SEX_WORDS, "girl", "boy", "child")},
    **{("oldest", sex): f"A {sex} aged {OLDEST_GROUP}" for sex in SEX_WORDS},
    **{("unknown", sex): f"A {sex}" for sex in SEX_WORDS},
}
SENTENCES = {
    "from": "{who} from {state}.",
    "encounter-day": "Day 0 is the day of the encounter.",
    "earliest-day": "Day 0 is the earliest date in the record.",
    "reason": "Reason for the encounter: {reason}",
    "day": "day {number}",
    "not-named": "(not named)",
    "trimmed": "Some entries were left out: the record is longer than a teaching case can hold.",
}
SECTIONS = (
    ("Condition", "Problems", "onsetDateTime"),
    ("Observation", "Findings", "effectiveDateTime"),
    ("MedicationRequest", "Medications", "authoredOn"),
    ("AllergyIntolerance", "Allergies", "recordedDate"),
)


def message_ids() -> set[str]:
    """The English text of every template the vignette is written from."""
    return {*OPENINGS.values(), *SENTENCES.values(), *(heading for _, heading, _ in SECTIONS)}


def untranslated(text: str) -> str:
    """No translation: the English template (the default)."""
    return text


def draft_vignette(
    resources: Iterable[Mapping[str, object]], translate: Translate = untranslated
) -> str:
    """A Markdown vignette of the encounter with the Safe Harbor identifiers removed."""
    resources = list(resources)
    identifiers = record_identifiers(resources)
    resources = current(resources)
    patient = first_of(resources, "Patient")
    encounter = first_of(resources, "Encounter")
    day0 = case_day0(resources)
    anchor = translate(SENTENCES["encounter-day" if encounter_start(resources) else "earliest-day"])
    lines = [f"{opening(patient, day0, translate)} {anchor}", ""]
    for reason in dicts_in(encounter.get("reasonCode")):
        text = clean(concept_text(reason, translate), identifiers, day0)
        lines += [translate(SENTENCES["reason"]).format(reason=text), ""]
    for kind, heading, when_field in SECTIONS:
        entries = [
            entry_line(resource, when_field, identifiers, day0, translate)
            for resource in resources
            if resource.get("resourceType") == kind
        ]
        if entries:
            lines += [f"**{translate(heading)}**", "", *entries, ""]
    return as_text(within_limit(lines, translate(SENTENCES["trimmed"])))


def as_text(lines: list[str]) -> str:
    """The vignette's lines as one Markdown text."""
    return "\n".join(lines).strip() + "\n"


def within_limit(lines: list[str], note: str) -> list[str]:
    """The lines, or as many whole ones as fit in VIGNETTE_MAX with the note after them."""
    if len(as_text(lines)) <= VIGNETTE_MAX:
        return lines
    budget = VIGNETTE_MAX - len(note) - 2  # the blank line before the note, its line end
    kept: list[str] = []
    for line in lines:
        budget -= len(line) + 1
        if budget < 0:
            break
        kept.append(line)
    while kept and (not kept[-1] or kept[-1].startswith("**")):  # a heading left with no entry
        kept.pop()
    return [*kept, "", note]


def current(resources: Iterable[Mapping[str, object]]) -> list[Mapping[str, object]]:
    """The resources but those the record withdrew or that are no longer current."""
    return [resource for resource in resources if not withdrawn(resource)]


def withdrawn(resource: Mapping[str, object]) -> bool:
    """A void observation or order; a refuted, entered-in-error or past problem or allergy."""
    kind = resource.get("resourceType")
    if kind == "Observation":
        return as_str(resource.get("status")) in VOID_OBSERVATION_STATUS
    if kind == "MedicationRequest":
        return as_str(resource.get("status")) in VOID_REQUEST_STATUS
    if kind in ("Condition", "AllergyIntolerance"):
        return is_void(dict(resource)) or not is_ongoing(dict(resource))
    return False


def case_day0(resources: Iterable[Mapping[str, object]]) -> date | None:
    """The vignette's day 0: the encounter's start, else the earliest date of what is current."""
    kept = current(resources)
    return encounter_start(kept) or earliest_date(kept)


def encounter_start(resources: list[Mapping[str, object]]) -> date | None:
    """The day the resources' encounter started (None without an encounter or a start)."""
    encounter = first_of(resources, "Encounter")
    return as_date(as_dict(encounter.get("period")).get("start"))


def opening(
    patient: Mapping[str, object], day0: date | None, translate: Translate = untranslated
) -> str:
    """'A 67-year-old woman from Oregon.': age (grouped over 89), sex and state only."""
    born = as_date(patient.get("birthDate"))
    age = age_group(born, day0) if born and day0 else None
    young = age is not None and age.isdigit() and int(age) < ADULT_AGE
    sexes = CHILDREN if young else ADULTS
    sex = sexes.get(as_str(patient.get("gender")) or "", "child" if young else "person")
    form = "unknown" if age is None else "years" if age.isdigit() else "oldest"
    who = translate(OPENINGS[(form, sex)]).format(age=age)
    state = state_of(patient)
    if state:
        return translate(SENTENCES["from"]).format(who=who, state=state)
    return f"{who}."


def entry_line(
    resource: Mapping[str, object],
    when_field: str,
    identifiers: Identifiers,
    day0: date | None,
    translate: Translate = untranslated,
) -> str:
    """One bullet: what it is, its value, and its relative day."""
    concept = resource.get("code") or resource.get("medicationCodeableConcept")
    text = concept_text(as_dict(concept), translate)
    value = quantity_text(as_dict(resource.get("valueQuantity")))
    components = [
        f"{concept_text(as_dict(c.get('code')), translate)}"
        f" {quantity_text(as_dict(c.get('valueQuantity')))}"
        for c in dicts_in(resource.get("component"))
    ]
    detail = ", ".join(part for part in [value, *components] if part.strip())
    when = as_date(resource.get(when_field))
    day = ""
    if when and day0:
        day = " (" + translate(SENTENCES["day"]).format(number=(when - day0).days) + ")"
    body = f"{text}: {detail}" if detail else text
    return f"- {clean(body, identifiers, day0)}{day}"


def concept_text(concept: Mapping[str, object], translate: Translate = untranslated) -> str:
    """A CodeableConcept's text, else its first coding's display."""
    for coding in dicts_in(concept.get("coding")):
        display = as_str(coding.get("display"))
        if display:
            return as_str(concept.get("text")) or display
    return as_str(concept.get("text")) or translate(SENTENCES["not-named"])


def quantity_text(quantity: Mapping[str, object]) -> str:
    """'38.9 Cel' from a Quantity (empty when it has no number)."""
    value = finite_float(quantity.get("value"))
    if value is None:  # no number: text, a boolean, NaN, or an integer past a float's range
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

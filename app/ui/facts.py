"""'From this patient's record': the latest values and active items in a case's value sets.

Read from the EHR with the session's token for the page being shown; nothing here is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import format_decimal, gettext, lazy_gettext

from app import units
from app.fhir_json import as_dict, as_str, coding_triples, dicts_in, finite_float
from app.library.loader import Library, ValueSet
from app.smart import FhirRequestError, SmartSession, fhir_get

QUERIES = {
    "Observation": "Observation?patient={patient}&_sort=-date&_count=50",
    "Condition": "Condition?patient={patient}&clinical-status=active",
    "MedicationRequest": "MedicationRequest?patient={patient}&status=active",
    "AllergyIntolerance": "AllergyIntolerance?patient={patient}",
}
OBSERVATION_STATUSES = {"final", "amended", "corrected", "preliminary"}
MEDICATION_STATUSES = {"active", "on-hold"}
ACTIVE_CLINICAL = {"active", "recurrence", "relapse"}
EXCLUDED_VERIFICATION = {"entered-in-error", "refuted"}
LARGEST_FORMATTED = 1e15  # Babel formats numbers below this with grouping; larger ones overflow it


@dataclass(frozen=True)
class FactItem:
    """One thing from the record: a latest observation value, or an active problem/drug/allergy."""

    kind: str  # observation | condition | medication | allergy
    display: str
    value: str | None = None
    when: datetime | None = None


@dataclass(frozen=True)
class Fact:
    """What the record holds for one of the case's value sets."""

    title: str
    items: tuple[FactItem, ...]


@dataclass(frozen=True)
class PatientFacts:
    """The panel: facts per value set, and whether (part of) the record could not be read."""

    facts: tuple[Fact, ...]
    complete: bool = True
    has_patient: bool = True


def patient_facts(session: SmartSession, library: Library, module: dict) -> PatientFacts:
    """Read the patient's data and keep what the module's `case.patient_facts` value sets name."""
    urls = module.get("case", {}).get("patient_facts", [])
    value_sets = [library.value_sets[url] for url in urls if url in library.value_sets]
    if not session.patient:
        return PatientFacts((), has_patient=False)
    resources, complete = read_record(session)
    facts = tuple(fact_for(value_set, resources) for value_set in value_sets)
    return PatientFacts(facts, complete=complete)


def read_record(session: SmartSession) -> tuple[dict[str, list[dict]], bool]:
    """Search each resource type for the patient; note when a search fails."""
    resources: dict[str, list[dict]] = {}
    complete = True
    for resource_type, query in QUERIES.items():
        try:
            bundle = fhir_get(session, query.format(patient=session.patient))
        except FhirRequestError:
            complete = False
            bundle = {}
        resources[resource_type] = list(entries(bundle, resource_type))
    return resources, complete


def entries(bundle: dict, resource_type: str) -> Iterator[dict]:
    """Yield a search Bundle's resources of one type (skipping OperationOutcomes)."""
    for entry in dicts_in(bundle.get("entry")):
        resource = entry.get("resource")
        if isinstance(resource, dict) and resource.get("resourceType") == resource_type:
            yield resource


def fact_for(value_set: ValueSet, resources: dict[str, list[dict]]) -> Fact:
    """Collect the latest matching observation and every matching active item."""
    items: list[FactItem] = []
    latest = latest_observation(value_set, resources["Observation"])
    if latest:
        items.append(latest)
    items += [
        condition_item(c) for c in resources["Condition"] if active(c) and matches(value_set, c)
    ]
    items += [
        medication_item(m)
        for m in resources["MedicationRequest"]
        if as_str(m.get("status")) in MEDICATION_STATUSES and matches(value_set, m)
    ]
    items += [
        allergy_item(a)
        for a in resources["AllergyIntolerance"]
        if active(a) and matches(value_set, a)
    ]
    return Fact(fact_title(value_set.title), tuple(items))


def fact_title(title: str) -> str:
    """A value set's title as a heading in the UI language (as written when not translated)."""
    return gettext(title) if title else ""


# The titles of the value sets the shipped modules show as patient facts (FHIR ValueSet.title is
# English only); tests/ui/test_spanish_pages.py checks this list covers every one.
FACT_TITLES = (
    lazy_gettext("Acute bronchitis and bronchiolitis (viral or unspecified)"),
    lazy_gettext("Acute otitis media"),
    lazy_gettext("Systemic antibacterial medications"),
    lazy_gettext("Atherosclerotic cardiovascular disease (coronary, cerebrovascular, peripheral)"),
    lazy_gettext("Atrial fibrillation or flutter (current)"),
    lazy_gettext("Blood culture"),
    lazy_gettext("Chronic kidney disease, stages 1-4 (including diabetic and hypertensive CKD)"),
    lazy_gettext("Estimated glomerular filtration rate (eGFR)"),
    lazy_gettext("Heart failure with reduced ejection fraction (systolic heart failure)"),
    lazy_gettext(
        "Hypertension (systemic arterial, including hypertensive heart and kidney disease)"
    ),
    lazy_gettext("Lactate"),
    lazy_gettext("Oral anticoagulants (DOACs and warfarin)"),
    lazy_gettext("Penicillin allergy (substances recorded in AllergyIntolerance.code)"),
    lazy_gettext("Pneumonia (community-acquired, adult and child)"),
    lazy_gettext("Sepsis, severe sepsis and septic shock (adult emergency trigger)"),
    lazy_gettext("Systolic blood pressure"),
    lazy_gettext("Common cold and acute upper respiratory infection"),
    lazy_gettext("Acute sinusitis (acute rhinosinusitis)"),
    lazy_gettext("Body temperature (general or rectal), for young infants"),
    lazy_gettext("Clostridioides difficile infection"),
    lazy_gettext("Group A streptococcus test (throat)"),
    lazy_gettext("LDL cholesterol in serum or plasma"),
    lazy_gettext("Mammography (any)"),
    lazy_gettext("Potassium in serum, plasma or blood"),
    lazy_gettext("Stool-based colorectal cancer screening tests (FIT, gFOBT, stool DNA-FIT)"),
    lazy_gettext("Type 2 diabetes mellitus"),
    lazy_gettext("Urinalysis"),
    lazy_gettext("Alcohol dependence (moderate to severe alcohol use disorder)"),
    lazy_gettext("Asthma"),
    lazy_gettext("Emphysema (COPD)"),
    lazy_gettext("ICS-LABA combination inhalers"),
    lazy_gettext("Inhaled corticosteroid-containing medicines"),
    lazy_gettext("Medications for alcohol use disorder"),
    lazy_gettext("Medications for opioid use disorder (MOUD)"),
    lazy_gettext("Nicotine patch"),
    lazy_gettext("Opioid use disorder"),
    lazy_gettext("Varenicline (oral)"),
)


def latest_observation(value_set: ValueSet, observations: list[dict]) -> FactItem | None:
    """The most recent observation (or panel component) coded in the value set."""
    found = []
    for observation in observations:
        if as_str(observation.get("status")) not in OBSERVATION_STATUSES:
            continue
        when = observed_at(observation)
        for part in [observation, *dicts_in(observation.get("component"))]:
            if in_value_set(value_set, part.get("code")):
                found.append((when or datetime.min.replace(tzinfo=UTC), part, when))
                break
    if not found:
        return None
    _, part, when = max(found, key=lambda item: item[0])
    return FactItem("observation", concept_text(part.get("code")), observation_value(part), when)


def condition_item(condition: dict) -> FactItem:
    """An active problem."""
    onset = parse_time(condition.get("onsetDateTime"))
    return FactItem("condition", concept_text(condition.get("code")), when=onset)


def medication_item(request: dict) -> FactItem:
    """A current medication order, with its dosage text."""
    concept = request.get("medicationCodeableConcept")
    name = (
        concept_text(concept)
        if concept
        else as_str(as_dict(request.get("medicationReference")).get("display")) or ""
    )
    dosages = dicts_in(request.get("dosageInstruction"))
    dosage = as_str(dosages[0].get("text")) if dosages else None
    return FactItem("medication", name, dosage, parse_time(request.get("authoredOn")))


def allergy_item(allergy: dict) -> FactItem:
    """An active allergy or intolerance, with its reaction."""
    reactions = dicts_in(allergy.get("reaction"))
    manifestations = dicts_in(reactions[0].get("manifestation")) if reactions else []
    reaction = ", ".join(text for m in manifestations if (text := concept_text(m))) or None
    return FactItem("allergy", concept_text(allergy.get("code")), reaction)


def active(resource: dict) -> bool:
    """Tell whether a Condition/AllergyIntolerance is current (absent status counts)."""
    clinical = codes_of(resource.get("clinicalStatus"))
    verification = codes_of(resource.get("verificationStatus"))
    if verification & EXCLUDED_VERIFICATION:
        return False
    return not clinical or bool(clinical & ACTIVE_CLINICAL)


def matches(value_set: ValueSet, resource: dict) -> bool:
    """Tell whether a resource's code (or medication) is in the value set."""
    concept = resource.get("medicationCodeableConcept") or resource.get("code")
    return in_value_set(value_set, concept)


def in_value_set(value_set: ValueSet, concept: object) -> bool:
    """Tell whether any coding of a CodeableConcept is in the value set."""
    return any((system, code) in value_set.codes for system, code, _ in coding_triples(concept))


def codings(concept: object) -> Iterable[dict]:
    """The codings of a CodeableConcept (nothing for anything else)."""
    if not isinstance(concept, dict):
        return []
    return dicts_in(concept.get("coding"))


def codes_of(concept: object) -> set[str]:
    """The bare codes of a CodeableConcept."""
    return {code for coding in codings(concept) if (code := as_str(coding.get("code")))}


def concept_text(concept: object) -> str:
    """A CodeableConcept's text, else its first display, else its first code."""
    if not isinstance(concept, dict):
        return ""
    if as_str(concept.get("text")):
        return concept["text"]
    for coding in codings(concept):
        shown = as_str(coding.get("display")) or as_str(coding.get("code"))
        if shown:
            return shown
    return ""


def observation_value(part: dict) -> str | None:
    """An observation's value as text: numbers in the UI's format, units as clinicians write them.

    A blood-pressure panel (LOINC 85354-9) carries no value of its own: it reads "92/58 mmHg"
    from its systolic (8480-6) and diastolic (8462-4) components.
    """
    quantity = part.get("valueQuantity")
    value = number_text(quantity.get("value")) if isinstance(quantity, dict) else None
    if value is not None:
        return units.with_unit(value, quantity)
    pressure = units.blood_pressure_parts(part)
    if pressure:
        systolic, diastolic = pressure
        high, low = number_text(systolic["value"]), number_text(diastolic["value"])
        if high is not None and low is not None:
            return units.with_unit(f"{high}/{low}", systolic)
    if as_str(part.get("valueString")):
        return part["valueString"]
    return concept_text(part.get("valueCodeableConcept")) or None


def number_text(value: object) -> str | None:
    """A JSON number in the UI's format (None when it is no finite number, or a boolean)."""
    number = finite_float(value)
    if number is None:
        return None
    if abs(number) >= LARGEST_FORMATTED:  # past Babel's decimal precision: plain notation
        return f"{number:g}"
    return str(format_decimal(value))


def observed_at(observation: dict) -> datetime | None:
    """When an observation was made (effective time, else issued)."""
    period = as_dict(observation.get("effectivePeriod"))
    for value in (
        observation.get("effectiveDateTime"),
        observation.get("effectiveInstant"),
        period.get("start"),
        observation.get("issued"),
    ):
        moment = parse_time(value)
        if moment:
            return moment
    return None


def parse_time(value: object) -> datetime | None:
    """Parse a FHIR date/dateTime/instant as an aware UTC datetime (None if absent or bad)."""
    if not isinstance(value, str) or not value:
        return None
    text = value if len(value) > 7 else f"{value}-01-01"[:10]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

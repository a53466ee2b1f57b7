"""Patient context for matching: codes, orders, observations, age and sex, from FHIR dicts."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from app.fhir_json import (
    PLACED_ORDER_STATUS,
    REFUTED_VERIFICATION,
    USABLE_OBSERVATION_STATUS,
    VOID_OBSERVATION_STATUS,
    Coding,
    age_in_years,
    as_dict,
    as_str,
    coding_triples,
    codings_of,
    dicts_in,
    finite_float,
    parse_time,
    status_code,
    strings_in,
)

INACTIVE_CLINICAL_STATUS = {"inactive", "remission", "resolved"}
CURRENT_MEDICATION_STATUS = {"active", "on-hold"}


@dataclass(frozen=True)
class CodedItem:
    """A condition, medication, draft order or allergy: its codings and a readable name."""

    codings: tuple[Coding, ...]
    display: str
    reference: str | None = None
    when: datetime | None = None  # placed orders only: when the order was written


@dataclass(frozen=True)
class ObservationItem:
    """An observation's codings, numeric value, unit and effective time."""

    codings: tuple[Coding, ...]
    display: str
    value: float | None
    unit: str | None
    when: datetime | None
    usable: bool = True  # final, amended, corrected or preliminary; else only "it was done"


@dataclass
class PatientContext:
    """Everything matching needs to know about one patient at one moment, with no identifiers."""

    hook: str
    now: datetime
    age_years: float | None = None
    sex: str | None = None
    conditions: list[CodedItem] = field(default_factory=list)
    medications: list[CodedItem] = field(default_factory=list)
    draft_orders: list[CodedItem] = field(default_factory=list)  # every unsigned order: context
    selected_orders: list[CodedItem] = field(default_factory=list)  # the drafts acted on now
    allergies: list[CodedItem] = field(default_factory=list)
    service_requests: list[CodedItem] = field(default_factory=list)
    observations: list[ObservationItem] = field(default_factory=list)
    resources: list[dict] = field(default_factory=list)

    def codes(self) -> set[tuple[str, str]]:
        """Return every (system, code) present anywhere in the context."""
        items: Iterable[CodedItem | ObservationItem] = (
            *self.conditions,
            *self.medications,
            *self.draft_orders,
            *self.allergies,
            *self.observations,
        )
        return {(system, code) for item in items for system, code, _ in item.codings}


def context_from_hook(
    hook: str,
    hook_context: Mapping[str, object],
    data: Mapping[str, object],
    now: datetime,
    relevant_codes: frozenset[tuple[str, str]] | None = None,
) -> PatientContext:
    """Build a PatientContext from a hook's context and its resolved prefetch data by key."""
    patients = resources_in(data.get("patient"))
    return build_context(
        hook,
        now,
        patient=patients[0] if patients else None,
        conditions=resources_in(data.get("conditions")),
        medications=resources_in(data.get("medications")),
        observations=resources_in(data.get("observations")),
        allergies=resources_in(data.get("allergies")),
        service_requests=resources_in(data.get("service_requests")),
        draft_orders=resources_in(hook_context.get("draftOrders")),
        selections=selections_of(hook, hook_context),
        relevant_codes=relevant_codes,
    )


def selections_of(hook: str, hook_context: Mapping[str, object]) -> frozenset[str] | None:
    """The orders order-select names as just selected ("MedicationRequest/103"); None: all drafts.

    On order-sign every draft order is being signed.
    """
    if hook != "order-select":
        return None
    return frozenset(strings_in(hook_context.get("selections")))


def selected_names(selections: Iterable[str]) -> frozenset[str]:
    """Each selection as given and, from a URL, its "Type/id" (selections name drafts loosely)."""
    names = set()
    for chosen in selections:
        names.add(chosen)
        names.add("/".join(chosen.rstrip("/").split("/")[-2:]))
    return frozenset(names)


def is_selected(reference: str | None, names: frozenset[str]) -> bool:
    """Tell whether a draft ("Type/id") is selected: by "Type/id", a URL ending so, or a bare id."""
    return bool(reference) and (reference in names or reference.rpartition("/")[2] in names)


def resources_in(value: object) -> list[dict]:
    """Return the resources in a Bundle, a single resource, a list, or nothing.

    An OperationOutcome (the EHR's FHIR server reporting an error or a note) is never patient data.
    """
    if isinstance(value, list):
        found = dicts_in(value)
    elif not isinstance(value, dict):
        return []
    elif value.get("resourceType") == "Bundle":
        found = entry_resources(value)
    else:
        found = [value]
    return [resource for resource in found if resource.get("resourceType") != "OperationOutcome"]


def entry_resources(bundle: dict) -> list[dict]:
    """The resources of a Bundle's entries (entries without one, or not objects, skipped)."""
    return dicts_in([entry.get("resource") for entry in dicts_in(bundle.get("entry"))])


def build_context(
    hook: str,
    now: datetime,
    *,
    patient: dict | None,
    conditions: Iterable[dict] = (),
    medications: Iterable[dict] = (),
    observations: Iterable[dict] = (),
    allergies: Iterable[dict] = (),
    draft_orders: Iterable[dict] = (),
    service_requests: Iterable[dict] = (),
    selections: Collection[str] | None = None,
    relevant_codes: frozenset[tuple[str, str]] | None = None,
) -> PatientContext:
    """Build a PatientContext from FHIR resources (already fetched or prefetched).

    selections name the draft orders acted on now ("MedicationRequest/103"); None: all of them.
    With relevant_codes, observations (and components) whose codes no criterion uses are skipped
    early: they can neither select nor satisfy a module, and most of a chart's vitals are such.
    """
    conditions, medications = list(conditions), list(medications)
    observations, allergies, draft_orders = list(observations), list(allergies), list(draft_orders)
    context = PatientContext(hook=hook, now=now)
    if patient:
        context.age_years = age_in_years(patient.get("birthDate"), now)
        context.sex = as_str(patient.get("gender"))
    context.conditions = [
        coded_item(c, c.get("code")) for c in conditions if is_active_condition(c)
    ]
    beside_medications = medication_codes_by_reference(medications)
    context.medications = [
        medication_item(m, beside_medications) for m in medications if is_current(m)
    ]
    beside_orders = medication_codes_by_reference(draft_orders)
    context.draft_orders = [order_item(order, beside_orders) for order in draft_orders]
    chosen = selected_names(selections) if selections is not None else None
    context.selected_orders = [
        order
        for order in context.draft_orders
        if chosen is None or is_selected(order.reference, chosen)
    ]
    context.allergies = [coded_item(a, a.get("code")) for a in allergies if is_active_allergy(a)]
    context.service_requests = [
        placed_order_item(order) for order in service_requests if is_placed(order)
    ]
    context.observations = [
        item
        for observation in observations
        for item in observation_items(observation, relevant_codes)
    ]
    context.resources = [r for r in (patient, *conditions, *medications, *observations) if r]
    context.resources += [*allergies, *draft_orders]
    return context


def is_active_condition(condition: dict) -> bool:
    """Active, recurrence, relapse or unstated clinical status; not refuted or entered in error."""
    if status_code(condition.get("verificationStatus")) in REFUTED_VERIFICATION:
        return False
    return status_code(condition.get("clinicalStatus")) not in INACTIVE_CLINICAL_STATUS


def is_active_allergy(allergy: dict) -> bool:
    """An allergy that is not resolved, inactive or refuted."""
    return is_active_condition(allergy)


def is_current(medication_request: dict) -> bool:
    """A MedicationRequest the patient is currently on."""
    return as_str(medication_request.get("status")) in CURRENT_MEDICATION_STATUS


def is_usable_observation(observation: dict) -> bool:
    """An observation with a status worth acting on."""
    return as_str(observation.get("status")) in USABLE_OBSERVATION_STATUS


def placed_order_item(order: dict) -> CodedItem:
    """A placed ServiceRequest with the time it was written (authoredOn, else its occurrence)."""
    item = coded_item(order, order.get("code"))
    when = parse_time(order.get("authoredOn")) or parse_time(order.get("occurrenceDateTime"))
    return CodedItem(item.codings, item.display, item.reference, when)


def is_placed(order: dict) -> bool:
    """A ServiceRequest that was placed (active) or done (completed), not drafted or revoked."""
    return as_str(order.get("status")) in PLACED_ORDER_STATUS


def concept_display(concept: dict | None, codings: tuple[Coding, ...] | None = None) -> str:
    """Return the best human name of a CodeableConcept (from its codings when already known)."""
    for _, _, display in codings if codings is not None else codings_of(concept):
        if display:
            return display
    return as_str(as_dict(concept).get("text")) or "(unnamed)"


def coded_item(resource: dict, concept: dict | None) -> CodedItem:
    """Build a CodedItem from a resource and its code."""
    resource_id = as_str(resource.get("id"))
    reference = f"{as_str(resource.get('resourceType'))}/{resource_id}" if resource_id else None
    codings = codings_of(concept)
    return CodedItem(codings, concept_display(concept, codings), reference)


def medication_item(request: dict, beside: Mapping[str, object]) -> CodedItem:
    """Build a CodedItem from a MedicationRequest, resolving a referenced Medication."""
    return coded_item(request, medication_concept(request, beside))


def order_item(order: dict, beside: Mapping[str, object]) -> CodedItem:
    """Build a CodedItem for a draft order (MedicationRequest or a request with `code`)."""
    if order.get("resourceType") == "MedicationRequest":
        return medication_item(order, beside)
    return coded_item(order, order.get("code"))


def medication_concept(request: dict, beside: Mapping[str, object]) -> dict | None:
    """Return the medication CodeableConcept, following a contained or bundled reference.

    beside is medication_codes_by_reference() of the request's siblings, built once for all.
    """
    if as_dict(request.get("medicationCodeableConcept")):
        return request["medicationCodeableConcept"]
    reference = as_str(as_dict(request.get("medicationReference")).get("reference"))
    if not reference:
        return None
    contained = medication_codes_by_reference(dicts_in(request.get("contained")))
    found = contained[reference] if reference in contained else beside.get(reference)
    return found if isinstance(found, dict) else None


def medication_codes_by_reference(resources: Iterable[dict]) -> dict[str, object]:
    """Map `#id` and `Medication/id` to the code of each Medication (the first of an id wins).

    One pass, so resolving every MedicationRequest of a call stays linear in its resources.
    """
    codes: dict[str, object] = {}
    for candidate in resources:
        if candidate.get("resourceType") == "Medication":
            medication_id = as_str(candidate.get("id"))
            codes.setdefault(f"#{medication_id}", candidate.get("code"))
            codes.setdefault(f"Medication/{medication_id}", candidate.get("code"))
    return codes


def resource_count(
    prefetch: Mapping[str, object] | None, hook_context: Mapping[str, object]
) -> int:
    """Count the FHIR resources a hook call carries: prefetched entries plus draft orders."""
    prefetched = sum(len(resources_in(value)) for value in (prefetch or {}).values())
    return prefetched + len(resources_in(hook_context.get("draftOrders")))


def observation_items(
    observation: dict, relevant_codes: frozenset[tuple[str, str]] | None = None
) -> list[ObservationItem]:
    """The parts of a usable observation (itself, its components) whose codes may matter."""
    components = observation.get("component")
    parts = [observation, *dicts_in(components)] if components else [observation]
    if relevant_codes is not None:
        parts = [part for part in parts if mentions(part.get("code"), relevant_codes)]
    if not parts or as_str(observation.get("status")) in VOID_OBSERVATION_STATUS:
        return []  # after the cheaper code check
    when, usable = observation_time(observation), is_usable_observation(observation)
    return [observation_item(part, when, usable) for part in parts]


def mentions(concept: object, codes: frozenset[tuple[str, str]]) -> bool:
    """Tell whether a CodeableConcept has a coding whose (system, code) is one of codes."""
    try:  # the quick reading of well-formed data (most of a chart, most of which is skipped)
        for coding in concept["coding"]:  # noqa: SIM110 - hot path: a loop, not a generator
            if (coding["system"], coding["code"]) in codes:
                return True
        return False
    except (KeyError, TypeError):  # partial or malformed codings: the careful reading decides
        return any(triple[:2] in codes for triple in coding_triples(concept))


def observation_item(
    observation: dict, when: datetime | None, usable: bool = True
) -> ObservationItem:
    """Build an ObservationItem (or a component's) with its numeric value at the given time."""
    quantity = as_dict(observation.get("valueQuantity"))
    value = quantity.get("value")
    codings = codings_of(observation.get("code"))
    return ObservationItem(
        codings=codings,
        display=concept_display(observation.get("code"), codings),
        value=finite_float(value),
        unit=as_str(quantity.get("code")) or as_str(quantity.get("unit")),
        when=when,
        usable=usable,
    )


def observation_time(observation: dict) -> datetime | None:
    """Return when an observation was made (effective time, else issued)."""
    period = as_dict(observation.get("effectivePeriod"))
    for text in (
        observation.get("effectiveDateTime"),
        observation.get("effectiveInstant"),
        period.get("end"),
        period.get("start"),
        observation.get("issued"),
    ):
        moment = parse_time(text)
        if moment is not None:
            return moment
    return None

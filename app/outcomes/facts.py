"""What a patient's resources are coded with, read once, so a measure can rule itself out early.

Every measure asks "does any resource of these types carry a coding in this value set?" before
any per-encounter work. The answer is a set intersection over each type's codes, gathered the
first time a type is asked about: a patient whose codes cannot meet a value set never has its
resources read for it. The codes are a superset of what the measures match (every complete
coding of every concept they read), so ruling out is exact: a match found the slow way is always
among them.

The same reading lets the ingest leave out, before spooling, resources of the types the measures
read only through their value sets (`ValueSetGate`) when they carry none of those codes: the
vital signs and routine labs that make up most of a real export.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from app.fhir_json import JsonObject

Code = tuple[str, str]

#: The CodeableConcepts the measures match a resource's codings in (see fhir_data.concepts_of
#: and events.medication_concept); `contained` Medications are read for their own `code`.
CONCEPT_FIELDS = ("code", "valueCodeableConcept", "medicationCodeableConcept")
CONCEPT_LIST_FIELDS = ("type",)


class CodedFacts:
    """The (system, code) pairs each resource type of one patient carries, gathered per type."""

    __slots__ = ("_by_type", "_codes")

    def __init__(self, by_type: Mapping[str, list[JsonObject]]) -> None:
        self._by_type = by_type
        self._codes: dict[str, frozenset[Code]] = {}

    def may_match(self, resource_types: Iterable[str], codes: frozenset[Code]) -> bool:
        """False only when no resource of the types carries a coding in codes."""
        for kind in resource_types:  # noqa: SIM110 (a loop: any() and its generator cost more)
            if not self.codes_of(kind).isdisjoint(codes):
                return True
        return False

    def codes_of(self, resource_type: str) -> frozenset[Code]:
        """Every complete (system, code) in the concepts of the patient's resources of a type."""
        known = self._codes.get(resource_type)
        if known is None:
            found: set[Code] = set()
            for resource in self._by_type.get(resource_type, ()):
                found.update(codes_in(resource))
            known = self._codes[resource_type] = frozenset(found)
        return known


class ValueSetGate:
    """Which resources can change a case: any of other types, gated ones with a code in codes."""

    __slots__ = ("codes", "gated_types")

    def __init__(self, gated_types: frozenset[str], codes: frozenset[Code]) -> None:
        self.gated_types = gated_types
        self.codes = codes

    def admits(self, resource: JsonObject) -> bool:
        """False only for a resource of a gated type with no coding in codes."""
        if resource.get("resourceType") not in self.gated_types:
            return True
        return not self.codes.isdisjoint(codes_in(resource))


def codes_in(resource: JsonObject) -> list[Code]:
    """Every complete (system, code) of a resource's concepts and its contained resources' code."""
    found: list[Code] = []
    for name in CONCEPT_FIELDS:
        concept = resource.get(name)
        if concept is not None:
            add_codes(found, concept)
    for name in CONCEPT_LIST_FIELDS:
        concepts = resource.get(name)
        if isinstance(concepts, list):
            for concept in concepts:
                add_codes(found, concept)
    contained = resource.get("contained")
    if isinstance(contained, list):
        for inner in contained:
            if isinstance(inner, dict):
                add_codes(found, inner.get("code"))
    return found


def add_codes(found: list[Code], concept: object) -> None:
    """Append the (system, code) of each coding of a concept whose system and code are strings."""
    codings = concept.get("coding") if isinstance(concept, dict) else None
    if not isinstance(codings, list):
        return
    for coding in codings:
        if isinstance(coding, dict):
            system, code = coding.get("system"), coding.get("code")
            if isinstance(system, str) and isinstance(code, str) and system and code:
                found.append((system, code))

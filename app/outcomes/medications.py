"""Medication resources, shared by every patient of one source, attached to the groups using them.

Bulk exports and FHIR servers keep a Medication as its own resource, with no patient: requests
and administrations point at it with `medicationReference` (`Medication/<id>`). The loaders keep
these few resources in a dict by id and add the ones a patient's resources reference to that
patient's group, so the measures resolve them like any other resource of the patient.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.fhir_json import as_str, reference_id

MedicationLookup = dict[str, dict]


def remember(lookup: MedicationLookup, resource: dict) -> bool:
    """Keep a Medication by its id; say whether the resource was one."""
    medication_id = as_str(resource.get("id"))
    if resource.get("resourceType") != "Medication" or not medication_id:
        return False
    lookup[medication_id] = resource
    return True


def referenced_ids(resources: Iterable[dict]) -> set[str]:
    """Ids of the Medications that resources reference outside themselves (not `#contained`)."""
    references = (
        reference_id(r["medicationReference"], "Medication")
        for r in resources
        if "medicationReference" in r
    )
    return {medication_id for medication_id in references if medication_id}


def with_medications(group: list[dict], lookup: MedicationLookup) -> list[dict]:
    """The group plus the known Medications it references and does not already hold."""
    if not lookup:
        return group
    held = {as_str(r.get("id")) for r in group if r.get("resourceType") == "Medication"}
    wanted = sorted(referenced_ids(group) - held)
    return [*group, *(lookup[i] for i in wanted if i in lookup)]

"""A learner's specialty from the EHR: PractitionerRole.specialty (SNOMED CT) → library specialty.

The codes are SNOMED CT practice-setting concepts (FHIR R4 binds PractitionerRole.specialty to the
Practice Setting Code Value Set, http://hl7.org/fhir/ValueSet/c80-practice-codes); see
fhir_fixtures/README.md for where each was checked. Codes Bedside has no library specialty for are
ignored, so an unmapped role never claims a specialty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from app.fhir_json import as_str, dicts_in, reference_id

SNOMED = "http://snomed.info/sct"
SPECIALTY_BY_SNOMED: Mapping[str, str] = {
    "394579002": "cardiology",  # Cardiology
    "408478003": "critical-care",  # Critical care medicine
    "773568002": "emergency-medicine",  # Emergency medicine
    "394583002": "endocrinology",  # Endocrinology
    "419772000": "family-medicine",  # Family practice
    "394807007": "infectious-diseases",  # Infectious diseases
    "419192003": "internal-medicine",  # Internal medicine
    "394589003": "nephrology",  # Nephrology
    "394537008": "pediatrics",  # Pediatric specialty
}


def specialty_from_roles(roles: Iterable[Mapping]) -> str | None:
    """The first library specialty named by active PractitionerRoles' SNOMED CT specialty codes."""
    for role in roles:
        if role.get("resourceType") != "PractitionerRole" or role.get("active") is False:
            continue
        for concept in dicts_in(role.get("specialty")):
            for coding in dicts_in(concept.get("coding")):
                code = as_str(coding.get("code"))
                if coding.get("system") == SNOMED and code in SPECIALTY_BY_SNOMED:
                    return SPECIALTY_BY_SNOMED[code]
    return None


def roles_in_bundle(bundle: Mapping) -> list[Mapping]:
    """The resources of a searchset Bundle's entries (non-dict noise is skipped)."""
    entries = bundle.get("entry") if isinstance(bundle, Mapping) else None
    resources = [entry.get("resource") for entry in dicts_in(entries)]
    return [r for r in resources if isinstance(r, Mapping)]


def practitioner_id(fhir_user: str | None) -> str | None:
    """The Practitioner id in a fhirUser URL ('…/Practitioner/dr-x' → 'dr-x'), else None."""
    return reference_id({"reference": fhir_user}, "Practitioner")

"""Tests for the specialty read from the EHR's PractitionerRole."""

from app.learning.specialties import (
    SNOMED,
    practitioner_id,
    roles_in_bundle,
    specialty_from_roles,
)


def role(code: str, *, active: bool = True, system: str = SNOMED) -> dict:
    """A PractitionerRole with one specialty coding."""
    return {
        "resourceType": "PractitionerRole",
        "active": active,
        "specialty": [{"coding": [{"system": system, "code": code}]}],
    }


def test_a_known_snomed_specialty_maps_to_the_library_specialty():
    assert specialty_from_roles([role("773568002")]) == "emergency-medicine"
    assert specialty_from_roles([role("394537008")]) == "pediatrics"
    assert specialty_from_roles([role("394579002")]) == "cardiology"


def test_unknown_codes_other_systems_and_inactive_roles_claim_nothing():
    assert specialty_from_roles([role("408467006")]) is None  # Adult mental illness: no module
    assert specialty_from_roles([role("394579002", system="http://example.org")]) is None
    assert specialty_from_roles([role("394579002", active=False)]) is None
    assert specialty_from_roles([{"resourceType": "OperationOutcome"}]) is None


def test_the_first_usable_role_wins():
    assert specialty_from_roles([role("1"), role("394579002"), role("773568002")]) == "cardiology"


def test_roles_are_read_from_a_searchset_bundle_tolerantly():
    bundle = {"entry": [{"resource": role("394579002")}, {"search": {}}, "junk"]}
    assert specialty_from_roles(roles_in_bundle(bundle)) == "cardiology"
    assert roles_in_bundle({}) == [] and roles_in_bundle([]) == []
    assert roles_in_bundle({"entry": 5}) == [] and roles_in_bundle({"entry": {"a": 1}}) == []


def test_odd_specialties_and_codings_are_skipped():
    """A specialty or coding of the wrong JSON type names no specialty, and raises nothing."""
    odd = {"resourceType": "PractitionerRole", "specialty": [5, {"coding": [7, {"code": ["x"]}]}]}
    assert specialty_from_roles([odd, {**odd, "specialty": 5}]) is None
    assert specialty_from_roles([odd, role("394579002")]) == "cardiology"


def test_practitioner_id_from_fhir_user():
    assert practitioner_id("http://localhost/fhir/Practitioner/dr-ed-okafor") == "dr-ed-okafor"
    assert practitioner_id("Practitioner/abc/") == "abc"
    assert practitioner_id("http://localhost/fhir/Patient/p1") is None
    assert practitioner_id("") is None and practitioner_id(None) is None

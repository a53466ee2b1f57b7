"""Checks for the synthetic FHIR R4 patient bundles in fhir_fixtures/patients."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

PATIENTS_DIR = Path(__file__).resolve().parents[2] / "fhir_fixtures" / "patients"
FIXTURE_FILES = sorted(PATIENTS_DIR.glob("*.json"))
FULL_URL_BASE = "https://fixtures.bedside.example/fhir/"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SYNTHETIC_ID_SYSTEMS = ("urn:oid:2.16.840.1.113883.19.",)  # HL7's example OID arc
RELATIVE_REF = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")
TIMED_VALUE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")

by_file = pytest.mark.parametrize("path", FIXTURE_FILES, ids=[p.name for p in FIXTURE_FILES])


def load(path: Path) -> dict:
    """Read one fixture bundle as plain JSON."""
    return json.loads(path.read_text(encoding="utf-8"))


def resources(bundle: dict) -> list[dict]:
    """The resources of a bundle's entries."""
    return [entry["resource"] for entry in bundle["entry"]]


def walk(node):
    """Yield (key, value) for every key in a nested JSON structure."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def code_systems(resource: dict, field: str) -> set[str]:
    """The coding systems used in one CodeableConcept field."""
    return {coding["system"] for coding in resource.get(field, {}).get("coding", [])}


def parse_instant(value: str) -> datetime:
    """Parse a FHIR dateTime/instant that has a time part."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_the_three_demo_patients_exist():
    """The three story patients are on disk."""
    names = {p.name for p in FIXTURE_FILES}
    assert {"sepsis-adult-ed.json", "uri-child.json", "hfref-adult.json"} <= names


@by_file
def test_bundle_validates_and_round_trips(path):
    """fhir.resources R4B parses the bundle and a dump re-parses to the same model."""
    data = load(path)
    first = Bundle.model_validate(data)
    dumped = first.model_dump(mode="json", exclude_none=True)
    assert Bundle.model_validate(dumped) == first
    assert dumped == data, "the library dropped or changed something in the JSON"


@by_file
def test_bundle_shape(path):
    """A collection with a timestamp and exactly one Patient, Practitioner and Encounter."""
    bundle = load(path)
    assert bundle["type"] == "collection"
    assert bundle["id"]
    assert TIMED_VALUE.match(bundle["timestamp"])
    counts = Counter(r["resourceType"] for r in resources(bundle))
    assert counts["Patient"] == counts["Practitioner"] == counts["Encounter"] == 1


@by_file
def test_entries_have_ids_and_matching_full_urls(path):
    """Every resource has an id and its fullUrl ends with <Type>/<id>."""
    for entry in load(path)["entry"]:
        resource = entry["resource"]
        assert resource.get("id"), entry
        suffix = f"{resource['resourceType']}/{resource['id']}"
        assert entry["fullUrl"] == FULL_URL_BASE + suffix


def test_resource_ids_are_unique_across_all_fixtures():
    """No resource id is reused, in one bundle or across bundles."""
    ids = Counter(r["id"] for path in FIXTURE_FILES for r in resources(load(path)))
    assert [i for i, n in ids.items() if n > 1] == []


@by_file
def test_relative_references_resolve_in_the_same_bundle(path):
    """Each {"reference": "Type/id"} points at a resource in the bundle."""
    bundle = load(path)
    present = {(r["resourceType"], r["id"]) for r in resources(bundle)}
    references = [value for key, value in walk(bundle) if key == "reference"]
    assert references
    for reference in references:
        match = RELATIVE_REF.match(reference)
        assert match, f"not a relative reference: {reference}"
        assert match.groups() in present, f"dangling reference: {reference}"


@by_file
def test_clinical_resources_carry_standard_codes(path):
    """Conditions: SNOMED + ICD-10-CM; Observations: LOINC; MedicationRequests: RxNorm."""
    required = {
        "Condition": ("code", {SNOMED, ICD10CM}),
        "Observation": ("code", {LOINC}),
        "MedicationRequest": ("medicationCodeableConcept", {RXNORM}),
    }
    for resource in resources(load(path)):
        if resource["resourceType"] in required:
            field, systems = required[resource["resourceType"]]
            assert systems <= code_systems(resource, field), resource["id"]


@by_file
def test_patient_is_clearly_synthetic(path):
    """The Patient has only synthetic identifiers and no contact details."""
    (patient,) = [r for r in resources(load(path)) if r["resourceType"] == "Patient"]
    assert patient["identifier"]
    for identifier in patient["identifier"]:
        assert identifier["system"].startswith(SYNTHETIC_ID_SYSTEMS)
    assert "telecom" not in patient and "address" not in patient
    security = {tag["code"] for tag in patient["meta"]["security"]}
    assert "HTEST" in security


@by_file
def test_nothing_happens_after_the_story_now(path):
    """Every timed value is at or before Bundle.timestamp (the loader shifts them together)."""
    bundle = load(path)
    now = parse_instant(bundle["timestamp"])
    for key, value in walk(resources(bundle)):
        if isinstance(value, str) and TIMED_VALUE.match(value):
            assert parse_instant(value) <= now, f"{key}={value} is after {bundle['timestamp']}"

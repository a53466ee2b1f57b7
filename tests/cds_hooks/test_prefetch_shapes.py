"""Prefetched values are checked against their templates: a wrong shape is the client's 400."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import jsonschema
import pytest

from app.devtools.fhir_server import FixtureFhirServer
from cds_hooks.patient_context import resources_in
from tests.cds_hooks.conftest import PATIENTS_DIR
from tests.cds_hooks.hook_requests import draft_medication, hook_request, prefetch_for

SEPSIS = "sepsis-adult"
SERVICE = "bedside-order-select"
TOKEN = "ehr-access-token-51c9"
PATIENT = {"resourceType": "Patient", "id": SEPSIS, "birthDate": "1960-01-01"}
HOOK_REQUEST_SCHEMA = "#/components/schemas/HookRequest"
OUTCOME = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}


@pytest.fixture(scope="module")
def fhir_server():
    """A fixture FHIR server on loopback that requires the EHR's access token."""
    with FixtureFhirServer(PATIENTS_DIR, token=TOKEN, now=datetime.now(UTC)) as server:
        yield server


def order_select(prefetch: dict, **extra) -> dict:
    """The sepsis patient with a drafted antibiotic (and selected) and this prefetch."""
    return hook_request(
        "order-select", SEPSIS, prefetch=prefetch, draft_orders=[draft_medication(SEPSIS)], **extra
    )


def sepsis_card_in(response) -> bool:
    """Tell whether the sepsis module's card is in a response."""
    return any(
        json.loads(card["links"][0]["appContext"])["module"] == "sepsis-hour-1-bundle"
        for card in response.json["cards"]
    )


def searchset(*resources: object) -> dict:
    """A search Bundle with these resources as its entries."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }


def with_key(fixture_store, key: str, value: object) -> dict:
    """The sepsis patient's full prefetch, with one key's value replaced."""
    prefetch = prefetch_for(fixture_store, SEPSIS)
    prefetch[key] = value
    return prefetch


WRONG_SHAPES = {
    "patient-as-bundle": ("patient", searchset(PATIENT)),
    "patient-as-list": ("patient", [PATIENT]),
    "patient-as-string": ("patient", "Patient/sepsis-adult"),
    "patient-as-condition": ("patient", {"resourceType": "Condition", "id": "c1"}),
    "patient-resource-type-number": ("patient", {**PATIENT, "resourceType": 7}),
    "patient-without-resource-type": ("patient", {"id": SEPSIS, "birthDate": "1960-01-01"}),
    "conditions-as-patient": ("conditions", PATIENT),
    "conditions-as-number": ("conditions", 5),
    "conditions-resource-type-number": ("conditions", {"resourceType": 7, "entry": []}),
    "conditions-as-list": ("conditions", [{"resourceType": "Condition"}]),
    "conditions-entry-number": ("conditions", {"resourceType": "Bundle", "entry": 5}),
    "conditions-entry-item-number": ("conditions", {"resourceType": "Bundle", "entry": [5]}),
    "conditions-resource-number": (
        "conditions",
        {"resourceType": "Bundle", "entry": [{"resource": 5}]},
    ),
    "conditions-of-observations": ("conditions", searchset({"resourceType": "Observation"})),
    "medications-of-conditions": ("medications", searchset({"resourceType": "Condition"})),
    "observations-nested-bundle": ("observations", searchset(searchset())),
    "allergies-as-string": ("allergies", "none"),
    "service-requests-of-patients": ("service_requests", searchset(PATIENT)),
}


@pytest.mark.parametrize("key,value", WRONG_SHAPES.values(), ids=WRONG_SHAPES.keys())
def test_a_prefetch_value_of_the_wrong_shape_is_a_400_naming_the_key(
    cds, fixture_store, key, value
):
    response = cds.hook(SERVICE, order_select(with_key(fixture_store, key, value)))
    assert response.status_code == 400, response.json
    error = response.json["error"]
    assert error["code"] == "invalid_request"
    assert error["field"].startswith(f"prefetch.{key}")
    assert error["message"].startswith(f"prefetch.{key}")


@pytest.mark.parametrize(
    "key,value,expected",
    [
        ("patient", [PATIENT], "Patient"),
        ("conditions", PATIENT, "Bundle"),
        ("conditions", searchset({"resourceType": "Observation"}), "Condition"),
    ],
)
def test_the_400_says_what_was_expected(cds, fixture_store, key, value, expected):
    response = cds.hook(SERVICE, order_select(with_key(fixture_store, key, value)))
    assert expected in response.json["error"]["message"]


def test_a_wrong_shape_is_a_400_even_with_a_fhir_server_to_fetch_from(
    cds, fixture_store, fhir_server
):
    prefetch = with_key(fixture_store, "conditions", [{"resourceType": "Condition"}])
    seen_before = len(fhir_server.requests_seen)
    body = order_select(prefetch, fhir_server=fhir_server.base_url, access_token=TOKEN)
    assert cds.hook(SERVICE, body).status_code == 400
    assert len(fhir_server.requests_seen) == seen_before


@pytest.mark.parametrize("key", ["patient", "conditions", "allergies"])
def test_null_still_means_no_data(cds, fixture_store, key):
    assert cds.hook(SERVICE, order_select(with_key(fixture_store, key, None))).status_code == 200


def test_a_medication_search_may_bring_the_medications_it_references(cds, fixture_store):
    medication = {"resourceType": "Medication", "id": "m1", "code": {"text": "ceftriaxone"}}
    request = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "medicationReference": {"reference": "Medication/m1"},
    }
    prefetch = with_key(fixture_store, "medications", searchset(request, medication))
    assert cds.hook(SERVICE, order_select(prefetch)).status_code == 200


def test_unknown_prefetch_keys_are_not_checked(cds, fixture_store):
    prefetch = with_key(fixture_store, "user", "Practitioner/123")
    assert cds.hook(SERVICE, order_select(prefetch)).status_code == 200


def test_entries_without_a_resource_and_odd_links_are_accepted(cds, fixture_store):
    conditions = copy.deepcopy(prefetch_for(fixture_store, SEPSIS)["conditions"])
    conditions["entry"].append({"fullUrl": "urn:uuid:0c3e", "search": {"mode": "match"}})
    conditions["link"] = [5, {"relation": "self", "url": 5}]
    response = cds.hook(SERVICE, order_select(with_key(fixture_store, "conditions", conditions)))
    assert response.status_code == 200
    assert sepsis_card_in(response)


def test_an_informational_operation_outcome_entry_is_not_data(cds, fixture_store):
    conditions = copy.deepcopy(prefetch_for(fixture_store, SEPSIS)["conditions"])
    notice = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational"}],
    }
    conditions["entry"].append({"resource": notice, "search": {"mode": "outcome"}})
    response = cds.hook(SERVICE, order_select(with_key(fixture_store, "conditions", conditions)))
    assert response.status_code == 200
    assert sepsis_card_in(response)


def test_a_bundle_reporting_an_error_outcome_without_a_fhir_server_is_412(cds, fixture_store):
    response = cds.hook(
        SERVICE, order_select(with_key(fixture_store, "conditions", searchset(OUTCOME)))
    )
    assert response.status_code == 412
    assert response.json["error"]["field"] == "prefetch.conditions"


def test_operation_outcome_entries_are_not_patient_data():
    assert resources_in(searchset(OUTCOME, PATIENT)) == [PATIENT]


def test_the_openapi_document_describes_what_each_prefetch_key_may_hold(client):
    document = client.get("/openapi.json").json
    schema = jsonschema.Draft202012Validator({**document, "$ref": HOOK_REQUEST_SCHEMA})
    body = order_select({"conditions": searchset({"resourceType": "Condition"})})
    assert schema.is_valid(body)
    for key, value in WRONG_SHAPES.values():
        assert not schema.is_valid(order_select({key: value})), key


def test_an_outcome_with_odd_issues_is_answered_without_a_server_error(cds, fixture_store):
    conditions = copy.deepcopy(prefetch_for(fixture_store, SEPSIS)["conditions"])
    odd = {"resourceType": "OperationOutcome", "issue": [5, {"severity": {"code": "error"}}]}
    conditions["entry"].append({"resource": odd})
    response = cds.hook(SERVICE, order_select(with_key(fixture_store, "conditions", conditions)))
    assert response.status_code == 200
    assert sepsis_card_in(response)

"""CDS errors as FHIR OperationOutcome for clients preferring FHIR JSON; JSON errors for others."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome

from app import create_app
from app.db import close_stores
from tests.cds_hooks.conftest import CdsCaller
from tests.cds_hooks.hook_requests import draft_medication, hook_request, prefetch_for

FHIR = {"Accept": "application/fhir+json"}
SERVICE = "/cds-services/bedside-order-select"
SEPSIS = "sepsis-adult"


def order_select(prefetch) -> dict:
    """The sepsis patient with a drafted antibiotic."""
    return hook_request(
        "order-select", SEPSIS, prefetch=prefetch, draft_orders=[draft_medication(SEPSIS)]
    )


def without_observations(fixture_store) -> dict:
    """A call whose required observations were neither prefetched nor fetchable (412)."""
    prefetch = prefetch_for(fixture_store, SEPSIS)
    del prefetch["observations"]
    return order_select(prefetch)


def error_calls(cds, fixture_store, headers: dict) -> dict:
    """Provoke each kind of CDS error with the given headers; the responses by name."""
    return {
        "bad body": cds.post(SERVICE, {"hook": "order-select"}, **headers),
        "no token": cds.client.post(SERVICE, json=order_select(None), headers=headers),
        "unknown service": cds.hook("nope", order_select(None), **headers),
        "prefetch missing": cds.post(SERVICE, without_observations(fixture_store), **headers),
        "wrong method": cds.client.get(SERVICE, headers=headers),
        "too large": cds.client.post(
            SERVICE,
            data=b"{" + b" " * 6_000_000 + b"}",
            headers={"Authorization": f"Bearer {cds.token(SERVICE)}", **headers},
        ),
    }


def issue_of(response) -> dict:
    """The one issue of an OperationOutcome answer, after validating it as FHIR R4B."""
    assert response.mimetype == "application/fhir+json"
    outcome = OperationOutcome.model_validate_json(response.get_data())
    (issue,) = outcome.issue
    assert issue.severity == "error"
    return response.json["issue"][0]


def test_fhir_clients_get_an_operation_outcome_with_the_same_status_and_message(cds, fixture_store):
    plain = error_calls(cds, fixture_store, {})
    fhir = error_calls(cds, fixture_store, FHIR)
    expected = {
        "bad body": (400, "invalid"),
        "no token": (401, "login"),
        "unknown service": (404, "not-found"),
        "prefetch missing": (412, "processing"),
        "wrong method": (405, "not-supported"),
        "too large": (413, "too-long"),
    }
    for name, (status, issue_type) in expected.items():
        assert plain[name].status_code == fhir[name].status_code == status, name
        issue = issue_of(fhir[name])
        assert issue["code"] == issue_type, name
        assert issue["diagnostics"] == plain[name].json["error"]["message"], name
    assert issue_of(fhir["prefetch missing"])["expression"] == ["prefetch.observations"]


@pytest.mark.parametrize(
    "accept",
    [None, "*/*", "application/json", "application/json, application/fhir+json"],
)
def test_other_clients_keep_the_one_json_error_shape(cds, fixture_store, accept):
    headers = {"Accept": accept} if accept else {}
    response = cds.post(SERVICE, without_observations(fixture_store), **headers)
    assert response.status_code == 412
    assert response.mimetype == "application/json"
    assert response.json == {
        "error": {
            "code": "prefetch_unavailable",
            "message": "Required data 'observations' could not be prefetched or fetched: "
            "no fhirServer to fetch from.",
            "field": "prefetch.observations",
        }
    }


def test_fhir_json_preferred_by_quality_gets_an_operation_outcome(cds):
    accept = {"Accept": "application/json;q=0.5, application/fhir+json"}
    response = cds.client.get("/cds-services", headers=accept)
    assert response.status_code == 401
    assert issue_of(response)["diagnostics"] == "Authentication failed."


def test_rate_limited_fhir_clients_keep_retry_after(cds_config, instance_path, ec_key):
    app = create_app({**cds_config, "CDS_RATE_LIMIT": "1 per minute"}, instance_path=instance_path)
    try:
        caller = CdsCaller(app.test_client(), ec_key)
        assert caller.get("/cds-services", **FHIR).status_code == 200
        limited = caller.get("/cds-services", **FHIR)
        assert limited.status_code == 429
        assert limited.headers["Retry-After"]
        assert issue_of(limited)["code"] == "throttled"
    finally:
        close_stores(app)


def test_pages_outside_the_cds_service_are_unchanged(client):
    response = client.get("/api/nothing-here", headers=FHIR)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.json["error"]["code"] == "not_found"


def test_the_openapi_document_describes_both_error_shapes(client):
    document = client.get("/openapi.json").json
    errors = document["paths"][SERVICE]["post"]["responses"]["412"]["content"]
    assert set(errors) == {"application/json", "application/fhir+json"}
    schema = document["components"]["schemas"]["OperationOutcome"]
    assert schema["properties"]["resourceType"] == {"const": "OperationOutcome"}

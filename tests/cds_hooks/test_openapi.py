"""GET /openapi.json describes the JSON endpoints, and real traffic validates against it."""

from __future__ import annotations

import json

import jsonschema
import pytest

from app.settings import REPO_ROOT
from cds_hooks.services import SERVICES
from tests.cds_hooks.hook_requests import draft_medication, hook_request, prefetch_for

REQUESTS = sorted((REPO_ROOT / "fhir_fixtures" / "cds_requests").glob("*/*.json"))[:12]


@pytest.fixture
def document(client):
    """The served OpenAPI document."""
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json


def validator_for(document: dict, schema_name: str) -> jsonschema.Validator:
    """A validator for one component schema, resolving references within the document."""
    root = {**document, "$ref": f"#/components/schemas/{schema_name}"}
    return jsonschema.Draft202012Validator(root)


def test_document_lists_every_json_endpoint(document):
    assert document["openapi"].startswith("3.1")
    services = [f"/cds-services/{service.id}" for service in SERVICES]
    assert set(document["paths"]) == {
        "/cds-services",
        "/healthz",
        *services,
        *(f"{path}/feedback" for path in services),
    }
    invoke = document["paths"]["/cds-services/bedside-order-select"]["post"]["responses"]
    assert set(invoke) == {"200", "400", "401", "412", "413", "429", "503"}


@pytest.mark.parametrize("path", REQUESTS, ids=lambda path: path.parent.name + "/" + path.stem)
def test_fixture_requests_validate_against_the_hook_request_schema(document, path):
    request = json.loads(path.read_text())["request"]
    validator_for(document, "HookRequest").validate(request)


def test_a_missing_hook_fails_the_schema(document):
    with pytest.raises(jsonschema.ValidationError):
        validator_for(document, "HookRequest").validate({"hookInstance": "x", "context": {}})


def test_real_responses_validate_against_the_response_schema(cds, document, fixture_store):
    body = hook_request(
        "order-select",
        "sepsis-adult",
        prefetch=prefetch_for(fixture_store, "sepsis-adult"),
        draft_orders=[draft_medication("sepsis-adult")],
    )
    answer = cds.hook("bedside-order-select", body).json
    assert answer["cards"]
    validator_for(document, "CdsResponse").validate(answer)
    error = cds.hook("bedside-order-select", {}).json
    validator_for(document, "Error").validate(error)

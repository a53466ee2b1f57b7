"""fhirAuthorization.scope: SMART v1 (CDS Hooks 2.0) and v2 (3.0) scopes both grant the fetches."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.devtools.fhir_server import FixtureFhirServer
from tests.cds_hooks.conftest import PATIENTS_DIR
from tests.cds_hooks.hook_requests import draft_medication, hook_request

SEPSIS = "sepsis-adult"
TOKEN = "ehr-access-token-3c9d"
SERVICE = "bedside-order-select"
LAB = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
PER_TYPE_V2 = (
    "patient/Patient.r patient/Condition.rs patient/MedicationRequest.rs "
    "patient/AllergyIntolerance.rs patient/Observation.rs"
)


@pytest.fixture(scope="module")
def fhir_server():
    """A fixture FHIR server on loopback that requires the EHR's access token."""
    with FixtureFhirServer(PATIENTS_DIR, token=TOKEN, now=datetime.now(UTC)) as server:
        yield server


def call_with_scope(cds, fhir_server, scope: str):
    """Invoke order-select with no prefetch, so everything is fetched under the given scope."""
    body = hook_request(
        "order-select",
        SEPSIS,
        prefetch=None,
        draft_orders=[draft_medication(SEPSIS)],
        fhir_server=fhir_server.base_url,
        access_token=TOKEN,
    )
    body["fhirAuthorization"]["scope"] = scope
    seen_before = len(fhir_server.requests_seen)
    response = cds.hook(SERVICE, body)
    fetched_types = {
        path.removeprefix("/fhir/").split("?")[0].split("/")[0]
        for _, path, _ in fhir_server.requests_seen[seen_before:]
    }
    return response, fetched_types


@pytest.mark.parametrize(
    "scope",
    [
        "patient/*.read",  # SMART v1, as CDS Hooks 2.0 clients send it
        "user/*.rs",  # SMART v2, CDS Hooks 3.0
        "launch openid fhirUser user/*.cruds",
        PER_TYPE_V2,
        PER_TYPE_V2.replace("Observation.rs", f"Observation.rs?category={LAB}"),
        "user/Patient.read user/Condition.read user/MedicationRequest.* "
        "user/AllergyIntolerance.read user/Observation.read",
    ],
)
def test_v1_and_v2_read_scopes_let_bedside_fetch(cds, fhir_server, scope):
    response, fetched = call_with_scope(cds, fhir_server, scope)
    assert response.status_code == 200, response.json
    assert fetched >= {"Patient", "Condition", "MedicationRequest", "Observation"}
    contexts = [card["links"][0]["appContext"] for card in response.json["cards"]]
    assert any("sepsis-hour-1-bundle" in context for context in contexts)


@pytest.mark.parametrize(
    ("scope", "key", "message"),
    [
        (
            "patient/Patient.read patient/Condition.read",
            "medications",
            "search of MedicationRequest",
        ),
        ("user/*.write", "patient", "read of Patient"),
        ("user/*.r", "conditions", "search of Condition"),  # v2 r is read by id, not search
        (
            "user/*.sr",
            "patient",
            "read of Patient",
        ),  # out of order: not a SMART scope, grants nothing
        ("patient/Observation.rs user/Condition.cud", "patient", "read of Patient"),
        ("openid fhirUser", "patient", "read of Patient"),
    ],
)
def test_a_scope_without_read_of_a_type_is_refused_before_any_fetch(
    cds, fhir_server, scope, key, message
):
    response, fetched = call_with_scope(cds, fhir_server, scope)
    assert response.status_code == 412
    assert response.json["error"]["field"] == f"prefetch.{key}"
    assert f"scope does not grant a {message}" in response.json["error"]["message"]
    refused_type = message.split()[-1]
    assert refused_type not in fetched

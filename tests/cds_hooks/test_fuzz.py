"""Property: no body a client can send makes a CDS endpoint answer 5xx."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
HOOKS = st.sampled_from(["order-select", "order-sign", "patient-view", "encounter-start", "", "x"])
RESOURCE = st.fixed_dictionaries(
    {
        "resourceType": st.sampled_from(
            [
                "Bundle",
                "Patient",
                "Condition",
                "Observation",
                "MedicationRequest",
                "OperationOutcome",
            ]
        )
    },
    optional={
        "entry": st.lists(st.fixed_dictionaries({"resource": JSON}), max_size=3),
        "id": JSON,
        "code": JSON,
        "valueQuantity": JSON,
        "status": JSON,
        "birthDate": JSON,
        "effectiveDateTime": JSON,
        "clinicalStatus": JSON,
        "medicationCodeableConcept": JSON,
    },
)
HOOK_BODIES = st.fixed_dictionaries(
    {"hook": HOOKS, "hookInstance": st.uuids().map(str) | st.text(max_size=5)},
    optional={
        "context": st.fixed_dictionaries(
            {"userId": st.text(max_size=10), "patientId": st.text(max_size=10)},
            optional={
                "draftOrders": RESOURCE,
                "selections": st.lists(st.text(max_size=8), max_size=2),
                "encounterId": JSON,
            },
        )
        | JSON,
        "prefetch": st.dictionaries(
            st.sampled_from(
                ["patient", "conditions", "medications", "observations", "allergies", "x"]
            ),
            RESOURCE | st.none() | JSON,
            max_size=5,
        ),
        "fhirServer": st.text(max_size=30) | st.just("http://127.0.0.1:9/fhir"),
        "fhirAuthorization": JSON,
    },
)
PATHS = st.sampled_from(
    [
        "/cds-services/bedside-order-select",
        "/cds-services/bedside-order-sign",
        "/cds-services/bedside-patient-view",
        "/cds-services/bedside-order-select/feedback",
        "/cds-services/nope",
    ]
)


@pytest.fixture(scope="module")
def open_client(tmp_path_factory):
    """A CDS app with auth off, so fuzzed bodies reach the parser and the engine."""
    instance = tmp_path_factory.mktemp("fuzz-instance")
    app = create_app(
        {"TESTING": True, "DATABASE": str(instance / "bedside.db"), "CDS_AUTH": "off"},
        instance_path=instance,
    )
    return app.test_client()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=PATHS, body=HOOK_BODIES | JSON)
def test_structured_bodies_never_cause_a_server_error(open_client, path, body):
    response = open_client.post(path, json=body)
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert set(response.json) == {"error"}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=PATHS, raw=st.binary(max_size=200))
def test_raw_bytes_never_cause_a_server_error(open_client, path, raw):
    response = open_client.post(path, data=raw, content_type="application/json")
    assert response.status_code < 500


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(feedback=st.lists(JSON, max_size=3))
def test_fuzzed_feedback_never_causes_a_server_error(open_client, feedback):
    response = open_client.post(
        "/cds-services/bedside-order-select/feedback", data=json.dumps({"feedback": feedback})
    )
    assert response.status_code < 500

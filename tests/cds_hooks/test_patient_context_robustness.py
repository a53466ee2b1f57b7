"""Property: malformed FHIR data from an EHR never crashes context building or matching."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from cds_hooks.patient_context import build_context

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
RELEVANT = frozenset({("http://loinc.org", "2524-7")})
ANY = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
CODING = st.fixed_dictionaries({}, optional={"system": ANY, "code": ANY, "display": ANY})
CONCEPT = (
    st.fixed_dictionaries({}, optional={"coding": st.lists(CODING, max_size=2) | ANY, "text": ANY})
    | ANY
)


def resource(resource_type: str, status: str, **fields):
    """A resource of the type, usable status, and arbitrary other fields."""
    return st.fixed_dictionaries(
        {"resourceType": st.just(resource_type), "status": st.just(status)},
        optional={name: strategy for name, strategy in fields.items()},
    )


OBSERVATION = resource(
    "Observation",
    "final",
    code=CONCEPT,
    valueQuantity=st.fixed_dictionaries({}, optional={"value": ANY, "unit": ANY, "code": ANY})
    | ANY,
    effectiveDateTime=ANY | st.sampled_from(["2026", "2026-03", "2026-03-10T13:00:00", "bad"]),
    effectivePeriod=ANY,
    issued=ANY,
)
CONDITION = resource(
    "Condition", "active", code=CONCEPT, clinicalStatus=CONCEPT, verificationStatus=CONCEPT
)
MEDICATION = resource(
    "MedicationRequest",
    "active",
    medicationCodeableConcept=CONCEPT,
    medicationReference=ANY,
    contained=st.lists(ANY, max_size=2) | ANY,
)
PATIENT = st.fixed_dictionaries(
    {"resourceType": st.just("Patient")}, optional={"birthDate": ANY, "gender": ANY}
)


@settings(max_examples=300, deadline=None)
@given(
    patient=PATIENT | st.none(),
    observations=st.lists(OBSERVATION, max_size=3),
    conditions=st.lists(CONDITION, max_size=3),
    medications=st.lists(MEDICATION, max_size=3),
)
@example(  # an integer too large for a float: Python's json reads it, float() refuses it
    patient=None,
    observations=[{"resourceType": "Observation", "status": "final",
                   "valueQuantity": {"value": 10**400}}],
    conditions=[],
    medications=[],
)  # fmt: skip
def test_context_building_survives_malformed_resources(
    patient, observations, conditions, medications
):
    context = build_context(
        "order-select",
        NOW,
        patient=patient,
        observations=observations,
        conditions=conditions,
        medications=medications,
        draft_orders=medications,
    )
    assert isinstance(context.codes(), set)

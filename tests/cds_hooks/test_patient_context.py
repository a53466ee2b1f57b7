"""Patient context: observations and components are kept only when a criterion can use them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cds_hooks.patient_context import build_context

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
LNC = "http://loinc.org"
# Codes from shared/terminology (LOINC vital signs).
RESPIRATORY_RATE, HEART_RATE, SYSTOLIC = "9279-1", "8867-4", "8480-6"


def coded(code: str, display: str) -> dict:
    """A LOINC CodeableConcept."""
    return {"coding": [{"system": LNC, "code": code, "display": display}]}


def observation(code: str, display: str, value: float | None = None, **extra) -> dict:
    """A final Observation half an hour ago, with an optional numeric value."""
    resource = {
        "resourceType": "Observation",
        "status": "final",
        "code": coded(code, display),
        "effectiveDateTime": (NOW - timedelta(minutes=30)).isoformat(),
        **extra,
    }
    if value is not None:
        resource["valueQuantity"] = {"value": value, "unit": "u", "code": "u"}
    return resource


def vitals_panel() -> dict:
    """A vital-signs panel (named by text only) with systolic and heart-rate components."""
    components = [
        {"code": coded(SYSTOLIC, "Systolic"), "valueQuantity": {"value": 88, "code": "mm[Hg]"}},
        {"code": coded(HEART_RATE, "Heart rate"), "valueQuantity": {"value": 112, "code": "/min"}},
    ]
    panel = observation(SYSTOLIC, "unused", component=components)
    panel["code"] = {"text": "Vital signs"}
    return panel


def kept_codes(relevant: set[tuple[str, str]] | None, *observations: dict) -> list[str]:
    """The observation codes the context keeps for matching, in order."""
    relevant_codes = frozenset(relevant) if relevant is not None else None
    context = build_context(
        "patient-view", NOW, patient=None, observations=observations, relevant_codes=relevant_codes
    )
    return [item.codings[0][1] if item.codings else item.display for item in context.observations]


def test_without_a_filter_every_observation_and_component_is_kept():
    kept = kept_codes(None, observation(RESPIRATORY_RATE, "Respiratory rate", 24), vitals_panel())
    assert kept == [RESPIRATORY_RATE, "Vital signs", SYSTOLIC, HEART_RATE]


def test_observations_no_criterion_uses_are_skipped():
    chart = [observation(HEART_RATE, "Heart rate", 112), observation(RESPIRATORY_RATE, "RR", 24)]
    assert kept_codes({(LNC, RESPIRATORY_RATE)}, *chart) == [RESPIRATORY_RATE]


def test_only_the_components_a_criterion_uses_are_kept_at_the_panel_time():
    context = build_context(
        "patient-view",
        NOW,
        patient=None,
        observations=[vitals_panel()],
        relevant_codes=frozenset({(LNC, SYSTOLIC)}),
    )
    (systolic,) = context.observations
    assert (systolic.codings[0][1], systolic.value, systolic.unit) == (SYSTOLIC, 88.0, "mm[Hg]")
    assert systolic.when == NOW - timedelta(minutes=30)


def test_the_same_code_in_another_system_does_not_count():
    other_system = observation(RESPIRATORY_RATE, "Respiratory rate", 24)
    other_system["code"]["coding"][0]["system"] = "http://example.org/local-codes"
    assert kept_codes({(LNC, RESPIRATORY_RATE)}, other_system) == []


def test_skipped_observations_stay_in_the_resources_fhirpath_conditions_read():
    heart_rate = observation(HEART_RATE, "Heart rate", 112)
    context = build_context(
        "patient-view",
        NOW,
        patient=None,
        observations=[heart_rate],
        relevant_codes=frozenset({(LNC, RESPIRATORY_RATE)}),
    )
    assert context.observations == []
    assert context.resources == [heart_rate]


def test_a_relevant_coding_after_partial_or_malformed_ones_still_counts():
    codings = [
        {"code": RESPIRATORY_RATE},  # no system
        {"system": LNC, "code": ["not", "a", "string"]},
        "not a coding",
        {"system": LNC, "code": RESPIRATORY_RATE, "display": "Respiratory rate"},
    ]
    messy = observation(RESPIRATORY_RATE, "Respiratory rate", 24)
    messy["code"] = {"coding": codings}
    assert kept_codes({(LNC, RESPIRATORY_RATE)}, messy) == [RESPIRATORY_RATE]


def test_only_final_or_preliminary_observations_are_usable_and_void_ones_are_left_out():
    statuses = ["final", "amended", "entered-in-error", "cancelled", "registered", None]
    chart = [observation(RESPIRATORY_RATE, "RR", 24, status=status) for status in statuses]
    for resource in chart:
        if resource["status"] is None:
            del resource["status"]
    kept = build_context(
        "patient-view",
        NOW,
        patient=None,
        observations=chart,
        relevant_codes=frozenset({(LNC, RESPIRATORY_RATE)}),
    ).observations
    assert [item.usable for item in kept] == [True, True, False, False]  # final, amended; others
    # registered and status-less ones stay, unusable, for "was it done" exclusions (any_status);
    # cancelled and entered-in-error say it was not done and are left out

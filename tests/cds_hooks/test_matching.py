"""The pure matching core: triggers, thresholds, windows, exclusions, demographics, ranking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.library.loader import Library, ValueSet
from cds_hooks.index import UnknownValueSet, compile_library
from cds_hooks.matching import match_modules, quantity_text
from cds_hooks.patient_context import build_context, observation_item

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
BASE = "https://fhir.bedside.example/ValueSet/"
SCT, ICD, RX, LNC = (
    "http://snomed.info/sct",
    "http://hl7.org/fhir/sid/icd-10-cm",
    "http://www.nlm.nih.gov/research/umls/rxnorm",
    "http://loinc.org",
)
VALUE_SETS = {
    "sepsis": {(ICD, "A41.9"): "Sepsis, unspecified organism", (SCT, "91302008"): "Sepsis"},
    "antibiotics": {(RX, "1665021"): "ceftriaxone 1000 MG Injection"},
    "lactate": {(LNC, "2524-7"): "Lactate [Moles/volume] in Serum or Plasma"},
    "blood-culture": {(LNC, "600-7"): "Bacteria identified in Blood by Culture"},
    "egfr": {(LNC, "62238-1"): "Glomerular filtration rate by CKD-EPI"},
    "glp1": {(RX, "475968"): "liraglutide"},
}


def value_set(name: str) -> ValueSet:
    """Build an in-memory value set."""
    displays = VALUE_SETS[name]
    return ValueSet(BASE + name, name, name, frozenset(displays), displays)


def module(module_id="sepsis-bundle", hooks=("order-select",), indicator="warning", **triggers):
    """Build the parts of a module that matching reads."""
    return {
        "id": module_id,
        "triggers": {"hooks": list(hooks), **triggers},
        "card": {"indicator": indicator},
    }


def ref(kind, name, **extra):
    """Build a criterion on a named value set."""
    return {kind: {"value_set": BASE + name, **extra}}


def index_of(*modules):
    """Compile a library of the given modules over all test value sets."""
    value_sets = {BASE + name: value_set(name) for name in VALUE_SETS}
    return compile_library(Library({m["id"]: m for m in modules}, value_sets))


def condition(system=ICD, code="A41.9", status="active"):
    """An active (or other status) Condition."""
    return {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"code": status}]},
        "code": {"coding": [{"system": system, "code": code, "display": "Sepsis"}]},
    }


def lactate(value, minutes_ago=40, unit="mmol/L", code="2524-7"):
    """A lactate Observation."""
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LNC, "code": code, "display": "Lactate"}]},
        "effectiveDateTime": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
        "valueQuantity": {"value": value, "unit": unit, "code": unit},
    }


def ceftriaxone_order():
    """A draft MedicationRequest for ceftriaxone."""
    return {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "medicationCodeableConcept": {
            "coding": [
                {"system": RX, "code": "1665021", "display": "ceftriaxone 1000 MG Injection"}
            ]
        },
    }


def matched_ids(index, hook="order-select", birth="1959-01-01", **resources):
    """Run matching for a context built from resources."""
    patient = {"resourceType": "Patient", "birthDate": birth, "gender": "female"}
    context = build_context(hook, NOW, patient=patient, **resources)
    return [found.module_id for found in match_modules(index, context)]


SEPSIS = module(
    all_of=[ref("condition", "sepsis"), ref("draft_order", "antibiotics", **{"as": "drug"})],
    none_of=[ref("observation", "blood-culture", within_hours=24)],
)


def test_fires_when_every_criterion_holds():
    assert matched_ids(
        index_of(SEPSIS), conditions=[condition()], draft_orders=[ceftriaxone_order()]
    )


def test_either_code_system_matches_the_condition():
    index = index_of(SEPSIS)
    sct = condition(SCT, "91302008")
    assert matched_ids(index, conditions=[sct], draft_orders=[ceftriaxone_order()])


def test_silent_without_the_draft_order():
    assert not matched_ids(index_of(SEPSIS), conditions=[condition()])


def test_silent_on_a_hook_the_module_does_not_serve():
    index = index_of(SEPSIS)
    found = matched_ids(
        index, hook="patient-view", conditions=[condition()], draft_orders=[ceftriaxone_order()]
    )
    assert not found


@pytest.mark.parametrize("status", ["resolved", "inactive", "remission"])
def test_inactive_conditions_do_not_count(status):
    index = index_of(SEPSIS)
    assert not matched_ids(
        index, conditions=[condition(status=status)], draft_orders=[ceftriaxone_order()]
    )


def test_exclusion_within_the_window_silences_the_module():
    culture = lactate(1, minutes_ago=120, code="600-7")
    culture.pop("valueQuantity")
    index = index_of(SEPSIS)
    resources = {"conditions": [condition()], "draft_orders": [ceftriaxone_order()]}
    assert not matched_ids(index, observations=[culture], **resources)
    culture["effectiveDateTime"] = (NOW - timedelta(hours=25)).isoformat()
    assert matched_ids(index, observations=[culture], **resources)


LACTATE_HIGH = module(
    "lactate-high",
    hooks=("patient-view",),
    all_of=[
        ref(
            "observation",
            "lactate",
            comparator=">",
            value=2,
            unit="mmol/L",
            also_units={"mg/dL": 0.111},
            within_hours=6,
            **{"as": "lactate"},
        )
    ],
)


@pytest.mark.parametrize(
    "observations,fires",
    [
        ([lactate(3.1)], True),
        ([lactate(2.0)], False),  # the comparator is strict
        ([lactate(3.1, minutes_ago=7 * 60)], False),  # outside the 6-hour window
        ([lactate(30, unit="mg/dL")], True),  # 30 mg/dL is 3.3 mmol/L
        ([lactate(3.1, unit="mEq/L")], False),  # an unconvertible unit never satisfies it
        ([lactate(3.1, minutes_ago=300), lactate(1.4, minutes_ago=30)], False),  # latest is normal
        ([lactate(1.4, minutes_ago=300), lactate(3.1, minutes_ago=30)], True),
        ([lactate(3.1, minutes_ago=-30)], False),  # a future time is not "within the last 6 h"
    ],
)
def test_observation_thresholds_use_the_latest_value_in_the_window(observations, fires):
    assert (
        bool(matched_ids(index_of(LACTATE_HIGH), hook="patient-view", observations=observations))
        is fires
    )


def test_evidence_names_the_value_and_code():
    index = index_of(LACTATE_HIGH)
    context = build_context("patient-view", NOW, patient=None, observations=[lactate(3.1)])
    (found,) = match_modules(index, context)
    assert found.named_values() == {"lactate": "3.1 mmol/L"}
    assert found.evidence[0].describe() == "Lactate 3.1 mmol/L (LOINC 2524-7)"


@pytest.mark.parametrize(
    "quantity, shown",
    [
        ({"value": 38.3, "code": "Cel", "unit": "Cel"}, "38.3 °C"),
        ({"value": 40, "code": "mL/min/{1.73_m2}"}, "40 mL/min/1.73 m²"),
        ({"value": 17.4, "code": "10*3/uL"}, "17.4 \N{MULTIPLICATION SIGN}10³/µL"),
        ({"value": 5.7, "unit": "mmol/L"}, "5.7 mmol/L"),
        ({"value": 93, "code": "%"}, "93%"),
    ],
)
def test_evidence_prints_ucum_codes_as_clinicians_read_them(quantity, shown):
    reading = {"code": {"coding": [{"system": LNC, "code": "8310-5"}]}, "valueQuantity": quantity}
    assert quantity_text(observation_item(reading, NOW)) == shown


@pytest.mark.parametrize(
    "birth,fires",
    [("2008-03-10", True), ("2008-03-11", False), ("1940-01-01", True), (None, False)],
)
def test_age_filter_is_inclusive_at_the_minimum_and_needs_a_known_age(birth, fires):
    adults = module(
        "adults",
        hooks=("patient-view",),
        all_of=[ref("condition", "sepsis")],
        age={"min_years": 18},
    )
    found = matched_ids(
        index_of(adults), hook="patient-view", birth=birth, conditions=[condition()]
    )
    assert bool(found) is fires


def test_sex_filter_excludes_the_other_sex():
    men_only = module(
        "men-only", hooks=("patient-view",), all_of=[ref("condition", "sepsis")], sex="male"
    )
    assert not matched_ids(index_of(men_only), hook="patient-view", conditions=[condition()])


def test_any_of_needs_at_least_one():
    either = module(
        "either",
        hooks=("patient-view",),
        all_of=[ref("condition", "sepsis")],
        any_of=[ref("observation", "lactate", comparator=">", value=2, unit="mmol/L")],
    )
    index = index_of(either)
    assert not matched_ids(index, hook="patient-view", conditions=[condition()])
    assert matched_ids(
        index, hook="patient-view", conditions=[condition()], observations=[lactate(4)]
    )


def test_draft_order_evidence_ranks_a_module_first():
    by_condition = module(
        "by-condition",
        hooks=("order-select",),
        indicator="critical",
        all_of=[ref("condition", "sepsis")],
    )
    index = index_of(SEPSIS, by_condition)
    found = matched_ids(index, conditions=[condition()], draft_orders=[ceftriaxone_order()])
    assert found == ["sepsis-bundle", "by-condition"]


def test_medication_reference_to_a_contained_medication_is_followed():
    order = {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "contained": [
            {
                "resourceType": "Medication",
                "id": "m1",
                "code": ceftriaxone_order()["medicationCodeableConcept"],
            }
        ],
        "medicationReference": {"reference": "#m1"},
    }
    assert matched_ids(index_of(SEPSIS), conditions=[condition()], draft_orders=[order])


def test_only_modules_sharing_a_code_are_evaluated():
    index = index_of(SEPSIS, LACTATE_HIGH)
    assert index.candidates({(ICD, "A41.9")}) == {"sepsis-bundle"}
    assert index.candidates({(LNC, "2524-7")}) == {"lactate-high"}
    assert index.candidates({(LNC, "600-7")}) == set()  # exclusion codes are not indexed


def test_fhirpath_condition_must_hold():
    guarded = module(
        "guarded",
        hooks=("patient-view",),
        all_of=[ref("condition", "sepsis")],
        fhirpath={
            "expression": "entry.resource.ofType(Patient).gender = 'male'",
            "description": "men",
        },
    )
    assert not matched_ids(index_of(guarded), hook="patient-view", conditions=[condition()])


def test_unknown_value_set_is_a_named_error():
    broken = module("broken", all_of=[ref("condition", "no-such-set")])
    with pytest.raises(UnknownValueSet, match="no-such-set"):
        index_of(broken)


def test_components_count_as_observations_at_the_panel_time():
    panel = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LNC, "code": "85354-9", "display": "Blood pressure panel"}]},
        "effectiveDateTime": (NOW - timedelta(minutes=30)).isoformat(),
        "component": [
            {
                "code": {"coding": [{"system": LNC, "code": "2524-7", "display": "Lactate"}]},
                "valueQuantity": {"value": 3.1, "unit": "mmol/L", "code": "mmol/L"},
            }
        ],
    }
    assert matched_ids(index_of(LACTATE_HIGH), hook="patient-view", observations=[panel])


def test_start_up_refuses_a_module_whose_card_cannot_be_conformant():
    from cds_hooks.cards import check_cards

    broken = {
        "id": "broken",
        "version": "1.0.0",
        "languages": ["en"],
        "card": {
            "indicator": "info",
            "summary": {"en": "A fine summary"},
            "detail": {"en": "Teach."},
            "override_reasons": [{"code": "n-a", "display": {"en": "Not applicable"}}],
        },
        "guideline": {"organization": "Org", "year": 2024, "url": "https://example.org/g"},
        "review": {"status": "draft"},
    }
    check_cards({"broken": broken})  # conformant so far
    broken["guideline"]["url"] = "not a url"
    with pytest.raises(ValueError, match="module broken"):
        check_cards({"broken": broken})


def egfr(value, days_ago):
    """An eGFR Observation in mL/min/{1.73_m2}."""
    unit = "mL/min/{1.73_m2}"
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LNC, "code": "62238-1", "display": "eGFR"}]},
        "effectiveDateTime": (NOW - timedelta(days=days_ago)).isoformat(),
        "valueQuantity": {"value": value, "unit": unit, "code": unit},
    }


LOW_EGFR_FOR_90_DAYS = module(
    "ckd-by-egfr",
    hooks=("patient-view",),
    all_of=[
        ref(
            "observation",
            "egfr",
            comparator="<",
            value=60,
            unit="mL/min/{1.73_m2}",
            within_hours=8760,
            persistent_days=90,
        )
    ],
)


@pytest.mark.parametrize(
    "observations,fires",
    [
        ([egfr(50, 10), egfr(52, 100)], True),  # 90 days apart, both low
        ([egfr(50, 10), egfr(52, 99)], False),  # 89 days apart is not yet persistent
        ([egfr(50, 10)], False),  # one low reading is not CKD
        ([egfr(50, 10), egfr(75, 50), egfr(52, 100)], False),  # a normal reading in between
        ([egfr(75, 10), egfr(50, 50), egfr(52, 150)], False),  # the latest is normal
        ([egfr(50, 10), egfr(52, 400)], False),  # the earlier one is outside the year
        ([egfr(50, 10), egfr(58, 60), egfr(52, 120)], True),
    ],
)
def test_persistent_days_needs_an_unbroken_run_of_readings_that_long(observations, fires):
    index = index_of(LOW_EGFR_FOR_90_DAYS)
    assert bool(matched_ids(index, hook="patient-view", observations=observations)) is fires


def liraglutide_active():
    """An active MedicationRequest for liraglutide."""
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
        "medicationCodeableConcept": {"coding": [{"system": RX, "code": "475968"}]},
    }


def test_unless_cancels_only_its_own_criterion():
    lactate_unless_glp1 = ref(
        "observation",
        "lactate",
        comparator=">",
        value=2,
        unit="mmol/L",
        unless=[ref("medication", "glp1")],
    )
    either = module(
        "either-unless",
        hooks=("patient-view",),
        all_of=[ref("condition", "sepsis")],
        any_of=[
            lactate_unless_glp1,
            ref("observation", "egfr", comparator="<", value=60, unit="mL/min/{1.73_m2}"),
        ],
    )
    index = index_of(either)
    sick = {"conditions": [condition()], "hook": "patient-view"}
    assert matched_ids(index, observations=[lactate(4)], **sick)
    assert not matched_ids(
        index, observations=[lactate(4)], medications=[liraglutide_active()], **sick
    )
    assert matched_ids(
        index,
        observations=[lactate(4), egfr(40, 1)],
        medications=[liraglutide_active()],
        **sick,
    )

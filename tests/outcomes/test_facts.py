"""A patient's coded facts rule a value set out only when no slow reader could match it."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from app.devtools.synthetic import codes
from app.devtools.synthetic.fhir import concept as concept_of
from app.fhir_json import first_coding_in
from app.outcomes.facts import CodedFacts, ValueSetGate
from app.outcomes.fhir_data import PatientRecord, coded_match
from tests.outcomes.charts import AMOXICILLIN, URI, hours, only_case
from tests.outcomes.test_fast_readers import CODES, MALFORMED, concept, json_value
from tests.outcomes.test_respiratory import START, uri_chart

TYPE = "Procedure"
resource = st.fixed_dictionaries(
    {"resourceType": st.just(TYPE)},
    optional={
        "code": concept,
        "type": st.lists(concept, max_size=2) | json_value,
        "valueCodeableConcept": concept,
        "medicationCodeableConcept": concept,
        "contained": st.lists(st.fixed_dictionaries({}, optional={"code": concept}), max_size=2),
    },
)
SNOMED = ("http://snomed.info/sct", "1")


def slow_match(item: dict) -> bool:
    """Whether any concept a measure reads matches CODES, read the way the measures read them."""
    inner = [c.get("code") for c in item.get("contained", []) if isinstance(c, dict)]
    concepts = [item.get("medicationCodeableConcept"), *inner]
    return coded_match(item, CODES) is not None or any(first_coding_in(c, CODES) for c in concepts)


@given(st.lists(resource, max_size=3))
@example([{"resourceType": TYPE, "code": MALFORMED}])
@example([{"resourceType": TYPE, "code": {"coding": [{"system": "s", "code": ""}]}}])
@example([{"resourceType": TYPE, "type": [{"coding": [{"system": SNOMED[0], "code": "1"}]}]}])
@example(
    [
        {
            "resourceType": TYPE,
            "contained": [
                {"code": {"coding": [dict(zip(("system", "code"), SNOMED, strict=True))]}}
            ],
        }
    ]
)
def test_a_value_set_is_ruled_out_only_when_nothing_matches_it(resources):
    facts = PatientRecord.from_resources(resources).facts
    expected = any(slow_match(item) for item in resources)
    assert facts.may_match((TYPE,), CODES) is expected


@given(resource)
@example({"resourceType": TYPE, "code": MALFORMED})
@example({"resourceType": TYPE, "type": [{"coding": [{"system": SNOMED[0], "code": "1"}]}]})
def test_the_value_set_gate_turns_away_only_resources_no_measure_reader_matches(item):
    """The ingest's gate is exact: it admits every resource the slow readers match, and no other."""
    gate = ValueSetGate(frozenset({TYPE}), CODES)
    assert gate.admits(item) is slow_match(item)


def test_the_value_set_gate_admits_every_resource_of_a_type_it_does_not_gate():
    """Patients, Encounters and orders are read whole, coded or not, so they always pass."""
    gate = ValueSetGate(frozenset({"Observation"}), CODES)
    assert gate.admits({"resourceType": "Encounter", "type": "not a list"}) is True
    assert gate.admits({"resourceType": "Observation", "code": MALFORMED}) is False


def test_each_type_answers_for_its_own_resources():
    """A code on an Observation does not make a Condition match, and no resources match nothing."""
    observation = {
        "resourceType": "Observation",
        "code": {"coding": [dict(system=SNOMED[0], code="1")]},
    }
    facts = CodedFacts({"Observation": [observation]})
    assert facts.may_match(("Observation",), CODES) is True
    assert facts.may_match(("Condition",), CODES) is False
    assert facts.may_match(("Condition", "Observation"), CODES) is True
    assert facts.codes_of("Condition") == frozenset()


def test_a_medicine_coded_only_on_the_medication_it_references_still_counts():
    """Ruling out asks the referenced Medication's codes too, not only the order's own."""
    chart, visit = uri_chart()
    order = chart.order(AMOXICILLIN, START + hours(1), visit)
    order["medicationReference"] = {"reference": "Medication/amox"}
    del order["medicationCodeableConcept"]
    chart.add({"resourceType": "Medication", "id": "amox", "code": concept_of(AMOXICILLIN)})
    assert only_case(URI, chart).in_numerator is False


def test_hospice_coded_as_an_encounter_type_still_excludes():
    """Ruling out reads Encounter.type as the measures do."""
    chart, _ = uri_chart()
    hospice_stay = chart.visit(START - hours(48), kind="HH")
    encounter = next(r for r in chart.resources if r.get("id") == hospice_stay)
    encounter["type"] = [concept_of(codes.HOSPICE_CARE)]
    assert only_case(URI, chart).excluded is True

"""Streaming evaluation over patient groups, robustness to malformed data, the fixture patients."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from app.outcomes.measures import UnknownMeasureKind, evaluate_patient, evaluate_patients
from tests.outcomes.charts import HF, SEPSIS, URI, measures

FIXTURES = Path(__file__).resolve().parents[2] / "fhir_fixtures" / "patients"


def fixture_resources(name: str) -> list[dict]:
    """The resources of one fixture bundle."""
    bundle = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return [entry["resource"] for entry in bundle["entry"]]


def test_patients_are_consumed_lazily():
    """evaluate_patients pulls one patient group at a time from an iterator."""
    pulled = []

    def groups():
        for name in ("uri-child.json", "sepsis-adult-ed.json"):
            pulled.append(name)
            yield fixture_resources(name)

    stream = evaluate_patients(measures().values(), groups())
    first = next(stream)
    assert (first.measure_id, pulled) == (URI, ["uri-child.json"])
    assert [case.measure_id for case in stream] == [SEPSIS]


def test_fixture_patients():
    """The story patients: URI treated well, sepsis bundle incomplete, HFrEF without a BB."""
    uri = evaluate_patient(measures().values(), fixture_resources("uri-child.json"))
    assert [(c.measure_id, c.in_numerator) for c in uri] == [(URI, True)]
    [sepsis] = evaluate_patient(measures().values(), fixture_resources("sepsis-adult-ed.json"))
    assert (sepsis.in_denominator, sepsis.in_numerator) == (True, False)
    assert dict(sepsis.elements) == {
        "initial_lactate": True,
        "blood_cultures": False,
        "antibiotic": False,
        "repeat_lactate": False,
    }
    [hf] = evaluate_patient(measures().values(), fixture_resources("hfref-adult.json"))
    assert (hf.measure_id, hf.in_denominator, hf.in_numerator) == (HF, True, False)


@pytest.mark.parametrize(
    "junk",
    [
        [None, 3, "text", {"no": "type"}],
        [{"resourceType": "Encounter", "class": "AMB", "period": "yesterday", "participant": 5}],
        [{"resourceType": "Condition", "code": {"coding": "J06.9"}, "onsetDateTime": 20260101}],
        [{"resourceType": "Observation", "code": [], "valueQuantity": {"value": "high"}}],
    ],
)
def test_malformed_resources_never_crash(junk):
    """Anything malformed is skipped rather than raising."""
    resources = [*fixture_resources("sepsis-adult-ed.json"), *junk]
    assert len(evaluate_patient(measures().values(), resources)) == 1


def test_unknown_kind_is_a_named_error():
    """A measure kind without a computation raises UnknownMeasureKind before any patient."""
    odd = replace(measures()[URI], kind="something-else")
    with pytest.raises(UnknownMeasureKind, match="something-else"):
        list(evaluate_patients([odd], iter(())))

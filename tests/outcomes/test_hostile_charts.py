"""Any JSON where a chart expects something else: the measures answer or skip it, never raise."""

from __future__ import annotations

import copy
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.outcomes import parallel
from app.outcomes.measures import evaluate_patient
from tests.outcomes.charts import measures
from tests.outcomes.test_synthetic import dataset
from tests.outcomes_io.helpers import write_ndjson

#: What EHR data holds where it should not: wrong types, empty, out of range, half a reference.
ODD_VALUES = (
    None, True, 0, 7, -1, 1.5, 10**30, 10**400, "", "x", "2026-13-45", "2026-01-01T25:00:00Z",
    "1e999", [], {}, [1], ["x"], {"a": 1}, {"coding": 5}, {"reference": 5}, {"start": 5},
    "Patient/", "#",
)  # fmt: skip


def replace_somewhere(value: object, chooser: random.Random, depth: int = 0) -> None:
    """Replace one field or item, at any depth of a resource, by an odd value."""
    if isinstance(value, dict) and value:
        key: object = chooser.choice(list(value))
    elif isinstance(value, list) and value:
        key = chooser.randrange(len(value))
    else:
        return
    inner = value[key]  # type: ignore[index]
    if depth < 4 and isinstance(inner, dict | list) and inner and chooser.random() < 0.6:
        replace_somewhere(inner, chooser, depth + 1)
    else:
        value[key] = copy.deepcopy(chooser.choice(ODD_VALUES))  # type: ignore[index]


@settings(max_examples=400, deadline=None)
@given(st.randoms(use_true_random=False))
def test_a_chart_with_odd_values_anywhere_is_evaluated_without_an_error(chooser):
    """Up to four fields of one synthetic patient's resources replaced by odd JSON values."""
    chart = copy.deepcopy(chooser.choice(dataset().patients))
    for _ in range(chooser.randint(1, 4)):
        replace_somewhere(chooser.choice(chart), chooser)
    cases = evaluate_patient(measures().values(), chart, as_of=dataset().as_of)
    assert all(isinstance(case.encounter_id, str) for case in cases)


def test_an_encounter_whose_id_is_a_list_is_judged_without_its_id():
    """A sepsis visit with a list for id, its diagnosis placed by date: judged, id 'unknown'."""
    chart = next(
        copy.deepcopy(patient)
        for patient in dataset().patients
        if any(c.measure_id.startswith("sepsis") for c in evaluated(patient))
    )
    for resource in chart:
        if resource["resourceType"] == "Encounter":
            resource["id"] = ["x"]
        if resource["resourceType"] == "Condition":
            resource.pop("encounter", None)  # placed at the visit by its dates instead
    sepsis = [case for case in evaluated(chart) if case.measure_id.startswith("sepsis")]
    assert sepsis and {case.encounter_id for case in sepsis} == {"unknown"}


def test_a_quantity_too_large_for_a_float_is_no_value_and_raises_nothing():
    """Python's json reads a 400-digit number (a FHIR server's page); float() refuses it."""
    chart = next(
        copy.deepcopy(patient)
        for patient in dataset().patients
        if any(c.measure_id.startswith("sepsis") for c in evaluated(patient))
    )
    quantities = [r["valueQuantity"] for r in chart if "valueQuantity" in r]
    assert quantities  # the sepsis chart's lactates
    for quantity in quantities:
        quantity["value"] = 10**400
    assert any(case.measure_id.startswith("sepsis") for case in evaluated(chart))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_patient_whose_id_is_not_text_is_left_out_of_the_export(tmp_path, workers):
    """Patients with a number or an object as id cannot be linked to anything: no error."""
    export = write_ndjson(tmp_path / "export")
    expected = parallel.evaluate_export(measures().values(), export, as_of=dataset().as_of)
    odd = [{"resourceType": "Patient", "id": 5}, {"resourceType": "Patient", "id": {"x": 1}}]
    with (export / "Patient.ndjson").open("a") as patients:
        patients.writelines(json.dumps(patient) + "\n" for patient in odd)
    cases = parallel.evaluate_export(
        measures().values(), export, as_of=dataset().as_of, workers=workers
    )
    assert cases == expected


def evaluated(chart: list[dict]) -> list:
    """Every measure's cases for one chart."""
    return evaluate_patient(measures().values(), chart, as_of=dataset().as_of)

"""Bulk Data NDJSON files of the synthetic dataset: written per type, read back, same answers."""

from __future__ import annotations

import json

from app.devtools.synthetic.bulk_export import write_bulk_ndjson
from app.devtools.synthetic.dataset import expected_summary
from app.outcomes import case_rates
from app.outcomes.bulk import group_by_patient, read_bulk_ndjson
from app.outcomes.measures import cases_by_measure, evaluate_patients
from tests.outcomes.charts import measures
from tests.outcomes.test_synthetic import dataset


def test_files_per_type_manifest_and_learning_events(tmp_path):
    """One NDJSON file per resource type, a manifest with counts, and the learning events."""
    written = write_bulk_ndjson(dataset(), tmp_path)
    assert {"Patient.ndjson", "Encounter.ndjson", "Condition.ndjson", "Observation.ndjson"} <= set(
        written
    )
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    total = sum(item["count"] for item in manifest["output"])
    assert total == sum(1 for _ in dataset().resources())
    assert manifest["transactionTime"] == "2026-11-01T00:00:00Z"
    lines = (tmp_path / "Encounter.ndjson").read_text().splitlines()
    assert len(lines) == dataset().encounter_count()
    assert all(json.loads(line)["resourceType"] == "Encounter" for line in lines)
    events = json.loads((tmp_path / "learning-events.json").read_text())
    assert {
        "clinician": "Practitioner/C03",
        "module_id": "uri-antibiotics-adults",
        "completed": "2026-05-01",
    } in events


def test_reading_the_files_back_gives_the_expected_answers(tmp_path):
    """NDJSON -> group per patient -> measures: the same counts as the generator expects."""
    write_bulk_ndjson(dataset(), tmp_path)
    groups = group_by_patient(read_bulk_ndjson(tmp_path))
    assert len(groups) == len(dataset().patients)
    cases = evaluate_patients(measures().values(), groups, as_of=dataset().as_of)
    expected = json.loads((tmp_path / "expected-measures.json").read_text())
    assert expected == json.loads(json.dumps(expected_summary(dataset())))
    for measure_id, measure_cases in cases_by_measure(cases).items():
        rate = case_rates.summarize(measure_cases)
        assert {
            "numerator": rate.numerator,
            "denominator": rate.denominator,
            "excluded": rate.excluded,
        } == expected[measure_id]["overall"]

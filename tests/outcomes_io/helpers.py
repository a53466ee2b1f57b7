"""Shared helpers: the synthetic dataset as NDJSON files or per-patient FHIR Bundles."""

from __future__ import annotations

import json
from pathlib import Path

from app.devtools.synthetic.bulk_export import write_bulk_ndjson
from app.devtools.synthetic.dataset import expected_summary
from app.outcomes import case_rates
from app.outcomes.measures import cases_by_measure, evaluate_patients
from tests.outcomes.charts import Chart, measures
from tests.outcomes.test_synthetic import dataset

TOKEN = "outcomes-test-token"


def write_ndjson(directory: Path) -> Path:
    """Write the default synthetic dataset as Bulk Data NDJSON files."""
    write_bulk_ndjson(dataset(), directory)
    return directory


def write_bundles(directory: Path) -> Path:
    """Write one collection Bundle per patient (plus one of practitioners) for the FHIR server."""
    directory.mkdir(parents=True, exist_ok=True)
    groups = [dataset().practitioners, *dataset().patients]
    for number, group in enumerate(groups):
        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": resource} for resource in group],
        }
        (directory / f"bundle-{number:04d}.json").write_text(json.dumps(bundle), encoding="utf-8")
    return directory


def overall_counts(groups) -> dict[str, dict[str, int]]:
    """Compute the measures on patient groups and return the overall counts per measure."""
    cases = evaluate_patients(measures().values(), groups, as_of=dataset().as_of)
    result = {}
    for measure_id, measure_cases in cases_by_measure(cases).items():
        rate = case_rates.summarize(measure_cases)
        result[measure_id] = {
            "numerator": rate.numerator,
            "denominator": rate.denominator,
            "excluded": rate.excluded,
        }
    return result


def expected_overall() -> dict[str, dict[str, int]]:
    """The generator's expected overall counts per measure."""
    return {key: value["overall"] for key, value in expected_summary(dataset()).items()}


def write_resources(directory: Path, resources: list[dict]) -> Path:
    """Write resources as a Bulk Data export: one `<Type>.ndjson` file per type."""
    directory.mkdir(parents=True, exist_ok=True)
    for resource in resources:
        path = directory / f"{resource['resourceType']}.ndjson"
        with path.open("a", encoding="utf-8") as lines:
            lines.write(json.dumps(resource) + "\n")
    return directory


def distinct_chart(patient_id: str) -> Chart:
    """A chart whose resource ids do not clash with other patients' (the server needs that)."""
    chart = Chart(patient_id=patient_id)
    chart.count = 100 * int(patient_id.removeprefix("p"))
    return chart

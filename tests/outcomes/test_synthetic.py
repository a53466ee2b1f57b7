"""The synthetic practice dataset: deterministic, realistic in size, valid FHIR, known answers."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from functools import cache

import pytest
from fhir.resources.R4B import get_fhir_model_class

from app import stats
from app.devtools.synthetic import codes
from app.devtools.synthetic.base import AS_OF, MODULE_MEASURES, PERIOD_START
from app.devtools.synthetic.dataset import (
    SyntheticDataset,
    expected_counts,
    expected_summary,
    generate_dataset,
)
from app.devtools.synthetic.fhir import MRN_SYSTEM
from app.library.measure_definitions import load_measure_value_sets
from app.outcomes import case_rates
from app.outcomes.cases import MeasureCase
from app.outcomes.measures import cases_by_measure, evaluate_patients
from tests.outcomes.charts import AAB, CONTENT_DIR, HF, PHARYNGITIS, SEPSIS, URI, measures

# The default dataset's answers (seed 20261031), pinned so that any change to the generator or
# the measures shows up here: (numerator, denominator, excluded).
PINNED = {
    URI: (168, 292, 48),
    AAB: (88, 141, 16),
    SEPSIS: (41, 109, 10),
    HF: (101, 142, 3),
    PHARYNGITIS: (0, 10, 0),  # URI visits also diagnosed with pharyngitis; no strep tests
}


@cache
def dataset() -> SyntheticDataset:
    """The default dataset, generated once."""
    return generate_dataset()


@cache
def computed() -> tuple[MeasureCase, ...]:
    """The measures computed on the default dataset, streamed patient by patient."""
    data = dataset()
    return tuple(evaluate_patients(measures().values(), data.patient_groups(), as_of=data.as_of))


def counts(rate: stats.Rate) -> dict[str, int]:
    """A Rate's counts in the generator's expected shape."""
    return {"numerator": rate.numerator, "denominator": rate.denominator, "excluded": rate.excluded}


def test_same_seed_same_bytes_other_seed_other_bytes():
    """Generation is deterministic: same seed, identical digest; another seed differs."""
    assert generate_dataset().digest() == dataset().digest()
    assert generate_dataset(seed=7).digest() != dataset().digest()


def test_size_and_span():
    """At least 500 encounters, 12 clinicians (plus a resident), 12 months up to 2026-10-31."""
    data = dataset()
    assert data.encounter_count() >= 500
    assert len(data.practitioners) >= 13
    encounters = [r for r in data.resources() if r["resourceType"] == "Encounter"]
    starts = [r["period"]["start"] for r in encounters if "period" in r]
    assert min(starts) >= PERIOD_START.isoformat().replace("+00:00", "Z")
    assert max(starts) < AS_OF.isoformat().replace("+00:00", "Z")
    assert timedelta(days=365) <= AS_OF - PERIOD_START


def test_every_expected_case_is_computed_exactly():
    """Per case: same cases, attribution, period, denominator, exclusion, numerator, elements."""
    expected = {(c.measure_id, c.encounter_id): c for c in dataset().expected_cases}
    actual = {(c.measure_id, c.encounter_id): c for c in computed()}
    assert actual.keys() == expected.keys()
    for key, want in expected.items():
        got = actual[key]
        assert (got.patient_key, got.clinician, got.period_start) == (
            want.patient_key,
            want.clinician,
            want.period_start,
        ), (key, want.label)
        assert (got.in_denominator, got.excluded, got.in_numerator) == (
            want.in_denominator,
            want.excluded,
            want.in_numerator,
        ), (key, want.label, got.reasons)
        assert dict(got.elements) == dict(want.elements), (key, want.label, got.reasons)


def test_overall_and_per_clinician_rates_match_the_expected_counts():
    """Aggregates computed by the stats module equal the generator's own tallies."""
    summary = expected_summary(dataset())
    grouped = cases_by_measure(computed())
    assert set(grouped) == set(summary) == set(PINNED)
    for measure_id, cases in grouped.items():
        assert counts(case_rates.summarize(cases)) == summary[measure_id]["overall"]
        per_clinician = {who: counts(rate) for who, rate in case_rates.by_clinician(cases).items()}
        assert per_clinician == summary[measure_id]["by_clinician"]
        rate = case_rates.summarize(cases)
        assert (rate.numerator, rate.denominator, rate.excluded) == PINNED[measure_id]


def test_before_after_completion_matches_and_improvers_improve():
    """Before/after each module completion matches; the four improvers' rates go up."""
    data = dataset()
    summary = expected_summary(data)
    grouped = cases_by_measure(computed())
    for event in data.learning_events:
        for measure_id in MODULE_MEASURES[event.module_id]:
            before, after = case_rates.before_after(
                grouped[measure_id], event.completed, clinician=event.clinician
            )
            key = f"{event.clinician} {event.module_id}"
            assert summary[measure_id]["before_after"][key] == {
                "before": counts(before),
                "after": counts(after),
            }
    for clinician, module, measure_id in [
        ("C03", "uri-antibiotics-adults", URI),
        ("C07", "uri-antibiotics-adults", URI),
        ("C10", "sepsis-hour-1-bundle", SEPSIS),
        ("C13", "hfref-gdmt", HF),
    ]:
        event = next(e for e in data.learning_events if e.clinician.endswith(clinician))
        assert event.module_id == module
        before, after = case_rates.before_after(
            grouped[measure_id], event.completed, event.clinician
        )
        assert after.rate > before.rate + 0.15, (clinician, before, after)


def test_expected_counts_use_plain_tallies():
    """The expected side never calls the measure code: it counts the generator's decisions."""
    cases = dataset().expected_cases
    assert expected_counts(cases) == {
        "numerator": sum(c.in_denominator and not c.excluded and c.in_numerator for c in cases),
        "denominator": sum(c.in_denominator for c in cases),
        "excluded": sum(c.in_denominator and c.excluded for c in cases),
    }


def test_edge_cases_are_present():
    """Boundaries, missing times, exclusions, revisits and attribution are all in the data."""
    labels = {case.label for case in dataset().expected_cases}
    for label in [
        "abx-at-72h",
        "abx-at-72h-plus-1min",
        "competing-day-3",
        "competing-day-4",
        "history-30d",
        "untimed-linked-abx",
        "revisit-second",
        "resident-first",
        "window-open-at-data-end",
        "comfort-care-at-6h",
        "lvef-exactly-40",
        "beta-blocker-allergy",
    ]:
        assert label in labels
    sepsis_labels = [c.label for c in dataset().expected_cases if c.measure_id == SEPSIS]
    assert any(label.startswith("untimed/") for label in sepsis_labels)
    patients = Counter(c.patient_key for c in dataset().expected_cases)
    assert max(patients.values()) >= 3


def test_every_resource_is_valid_r4b_fhir():
    """Every generated resource parses with fhir.resources R4B and dumps back unchanged."""
    for resource in dataset().resources():
        model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert model.model_dump(mode="json", exclude_none=True) == resource


def test_codes_come_from_the_repository_value_sets_with_their_displays():
    """Every clinical coding is in a Bedside value set (or a measure-only one), display included.

    The one exception is the decoy metoprolol tartrate (a real RxNorm code of the eCQM set
    'Beta Blocker Therapy'), which must stay outside the evidence-based beta-blocker set.
    """
    value_sets = load_measure_value_sets(CONTENT_DIR)
    displays = {}
    for value_set in value_sets.values():
        displays.update(value_set.displays)
    decoy = codes.METOPROLOL_TARTRATE
    beta_blockers = value_sets["https://fhir.bedside.example/ValueSet/hf-beta-blockers"].codes
    assert decoy[:2] not in beta_blockers
    displays[decoy[:2]] = decoy[2]
    for resource in dataset().resources():
        for field in ("code", "medicationCodeableConcept"):
            for coding in resource.get(field, {}).get("coding", []):
                key = (coding["system"], coding["code"])
                assert displays.get(key) == coding["display"], key


def test_people_are_obviously_synthetic():
    """Test-data tag, MRNs on HL7's example OID arc, NPI-like ids starting with 999."""
    for resource in dataset().resources():
        if resource["resourceType"] == "Patient":
            assert resource["meta"]["security"][0]["code"] == "HTEST"
            assert resource["identifier"][0]["system"] == MRN_SYSTEM
            assert resource["name"][0]["family"] == "Testpatient"
        if resource["resourceType"] == "Practitioner":
            assert resource["identifier"][0]["value"].startswith("999")


@pytest.mark.parametrize("module_id", sorted(MODULE_MEASURES))
def test_module_links_agree_with_the_measure_files(module_id):
    """The generator's module -> measures map is what the measure YAML files declare."""
    declared = {m.id for m in measures().values() if module_id in m.modules}
    assert declared == set(MODULE_MEASURES[module_id])

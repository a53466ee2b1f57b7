"""Appropriate testing for pharyngitis (CMS146 style): population, exclusions, test window."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from app.devtools.synthetic import codes
from app.outcomes.measures import evaluate_patient
from tests.outcomes.charts import (
    AMOXICILLIN,
    PHARYNGITIS,
    URI,
    Chart,
    at,
    evaluate,
    hours,
    measures,
    only_case,
)

START = at("2026-03-02T10:00")
ACUTE_PHARYNGITIS = codes.COMPETING[4]  # 363746003 / J02.9, in the measure's diagnosis set
STREP_THROAT = codes.COMPETING[0]  # 43878008 / J02.0
RAPID_STREP = (
    codes.LOINC,
    "78012-2",
    "Streptococcus pyogenes Ag [Presence] in Throat by Rapid immunoassay",
)
THROAT_CULTURE = (codes.LOINC, "626-2", "Bacteria identified in Throat by Culture")
IV_VANCOMYCIN = codes.IV_ANTIBIOTICS[2]  # a systemic antibiotic CMS146's list does not hold


def treated_visit(start=START, diagnosis=ACUTE_PHARYNGITIS, **options) -> tuple[Chart, str]:
    """A chart with a pharyngitis visit and amoxicillin ordered one hour in."""
    chart = Chart(birth=options.pop("birth", date(1990, 1, 1)))
    visit = chart.visit(start, options.pop("kind", "AMB"), **options)
    chart.condition(diagnosis, visit, onset=start.date().isoformat() if start else None)
    if start is not None:
        chart.order(AMOXICILLIN, start + hours(1), visit)
    return chart, visit


def strep_test(chart: Chart, when, code=RAPID_STREP, **options) -> dict:
    """A resulted group A strep test (negative unless told otherwise)."""
    options.setdefault("text_value", "Negative")
    return chart.observation(code, when, **options)


def test_tested_visit_is_in_the_numerator():
    """Pharyngitis, an antibiotic and a strep test: numerator, attributed to the attending."""
    chart, visit = treated_visit(clinician="C04")
    strep_test(chart, START + timedelta(minutes=20))
    case = only_case(PHARYNGITIS, chart)
    assert (case.in_denominator, case.excluded, case.in_numerator) == (True, False, True)
    assert (case.encounter_id, case.clinician) == (visit, "Practitioner/C04")
    assert any("78012-2" in reason for reason in case.reasons)


def test_untested_visit_is_in_the_denominator_only():
    """An antibiotic for pharyngitis with no strep test is the gap the measure shows."""
    chart, _ = treated_visit()
    case = only_case(PHARYNGITIS, chart)
    assert (case.in_denominator, case.excluded, case.in_numerator) == (True, False, False)
    assert "no group A strep test" in case.reasons[-1]


def test_a_culture_and_a_positive_result_count_too():
    """Any test of the value set counts, whatever it showed."""
    chart, _ = treated_visit()
    strep_test(chart, START + hours(30), THROAT_CULTURE, text_value="Streptococcus pyogenes")
    assert only_case(PHARYNGITIS, chart).in_numerator is True


@pytest.mark.parametrize(
    ("offset", "tested"),
    [
        (-hours(72) - timedelta(minutes=1), False),
        (-hours(72), True),
        (timedelta(0), True),
        (hours(72), True),
        (hours(72) + timedelta(minutes=1), False),
    ],
    ids=["72h-plus-1min-before", "exactly-72h-before", "at-start", "exactly-72h", "72h-plus-1min"],
)
def test_test_window_is_72_hours_either_side_of_start(offset, tested):
    """A test in [start - 72 h, start + 72 h] counts, both ends inclusive; a minute out does not."""
    chart, _ = treated_visit()
    strep_test(chart, START + offset)
    assert only_case(PHARYNGITIS, chart).in_numerator is tested


@pytest.mark.parametrize(
    "options",
    [{"status": "preliminary"}, {"status": "cancelled"}, {"text_value": None}],
    ids=["preliminary", "cancelled", "no-value"],
)
def test_only_a_resulted_test_counts(options):
    """Final, amended or corrected with a value (CMS146: a performed test with a result)."""
    chart, _ = treated_visit()
    strep_test(chart, START + hours(1), **options)
    assert only_case(PHARYNGITIS, chart).in_numerator is False


def test_an_ordered_test_is_not_a_performed_one():
    """A ServiceRequest for a strep test does not make the numerator."""
    chart, visit = treated_visit()
    request = {
        "resourceType": "ServiceRequest",
        "id": "sr-1",
        "status": "active",
        "intent": "order",
        "code": {"coding": [{"system": RAPID_STREP[0], "code": RAPID_STREP[1]}]},
        "subject": {"reference": "Patient/p1"},
        "encounter": {"reference": f"Encounter/{visit}"},
        "authoredOn": "2026-03-02T10:05:00Z",
    }
    chart.add(request)
    assert only_case(PHARYNGITIS, chart).in_numerator is False


def test_untimed_test_counts_only_when_linked_to_the_visit():
    """No effective time: counted at its own encounter, ignored (with a note) otherwise."""
    chart, visit = treated_visit()
    strep_test(chart, None, encounter_id=visit)
    assert only_case(PHARYNGITIS, chart).in_numerator is True
    chart, _ = treated_visit()
    strep_test(chart, None)
    case = only_case(PHARYNGITIS, chart)
    assert case.in_numerator is False
    assert any("no effective time and no encounter" in reason for reason in case.reasons)


@pytest.mark.parametrize(
    ("offset", "in_population"),
    [
        (-timedelta(minutes=1), False),
        (timedelta(0), True),
        (hours(72), True),
        (hours(72) + timedelta(minutes=1), False),
    ],
    ids=["1-minute-before", "at-start", "exactly-72h", "72h-plus-1min"],
)
def test_antibiotic_window_is_start_to_72_hours(offset, in_population):
    """Only a visit with an antibiotic authored in [start, start + 72 h] is in the population."""
    chart = Chart()
    visit = chart.visit(START)
    chart.condition(ACUTE_PHARYNGITIS, visit, onset="2026-03-02")
    chart.order(AMOXICILLIN, START + offset)
    case = only_case(PHARYNGITIS, chart)
    assert case.in_denominator is in_population
    if not in_population:
        assert "not in the population" in case.reasons[-1]


def test_no_antibiotic_means_no_denominator_case():
    """Testing is measured only when an antibiotic was ordered."""
    chart = Chart()
    visit = chart.visit(START)
    chart.condition(ACUTE_PHARYNGITIS, visit, onset="2026-03-02")
    strep_test(chart, START)
    assert only_case(PHARYNGITIS, chart).in_denominator is False


def test_antibiotics_outside_cms146s_list_do_not_qualify():
    """IV vancomycin is systemic but not in 'Antibiotic Medications for Pharyngitis'."""
    chart = Chart()
    visit = chart.visit(START)
    chart.condition(ACUTE_PHARYNGITIS, visit, onset="2026-03-02")
    chart.order(IV_VANCOMYCIN, START + hours(1), visit)
    assert only_case(PHARYNGITIS, chart).in_denominator is False


def test_streptococcal_pharyngitis_is_the_diagnosis_not_a_competing_one():
    """J02.0 is in the population and does not exclude itself (it is competing only for URI)."""
    chart, _ = treated_visit(diagnosis=STREP_THROAT)
    case = only_case(PHARYNGITIS, chart)
    assert (case.in_denominator, case.excluded) == (True, False)


def add_competing(chart: Chart, visit: str) -> None:
    """Acute sinusitis diagnosed at the visit."""
    chart.condition(codes.COMPETING[1], visit, onset="2026-03-02")


def add_comorbid(chart: Chart, visit: str) -> None:
    """A comorbid condition on the problem list."""
    chart.condition(codes.COMORBID[0], category="problem-list-item", onset="2025-09-01")


def add_prior_antibiotic(chart: Chart, visit: str) -> None:
    """Amoxicillin ordered exactly 30 days before."""
    chart.order(AMOXICILLIN, START - timedelta(days=30), status="completed")


def add_hospice(chart: Chart, visit: str) -> None:
    """Hospice care three days after the visit."""
    chart.procedure(codes.HOSPICE_CARE, START + timedelta(days=3))


@pytest.mark.parametrize(
    ("add", "why"),
    [
        (add_competing, "competing diagnosis"),
        (add_comorbid, "comorbid condition"),
        (add_prior_antibiotic, "before the visit"),
        (add_hospice, "hospice"),
    ],
    ids=["competing", "comorbid", "prior-antibiotic", "hospice"],
)
def test_exclusions(add, why):
    """Each CMS146 exclusion takes a tested visit out of the rate, saying why."""
    chart, visit = treated_visit()
    strep_test(chart, START + hours(1))
    add(chart, visit)
    case = only_case(PHARYNGITIS, chart)
    assert (case.in_denominator, case.excluded, case.in_numerator) == (True, True, False)
    assert why in case.exclusion_reason


def test_antibiotic_more_than_30_days_before_does_not_exclude():
    """The antibiotic history is [start - 30 days, start)."""
    chart, _ = treated_visit()
    chart.order(AMOXICILLIN, START - timedelta(days=30, minutes=1), status="completed")
    assert only_case(PHARYNGITIS, chart).excluded is False


@pytest.mark.parametrize(
    ("chart_options", "why"),
    [
        ({"birth": date(2023, 3, 3)}, "under 3"),
        ({"birth": None}, "no birth date"),
        ({"kind": "IMP"}, "class IMP"),
    ],
    ids=["aged-2", "no-birth-date", "inpatient"],
)
def test_not_in_denominator(chart_options, why):
    """Age (3 years or older), birth date and class decide the denominator; the case says why."""
    chart, _ = treated_visit(**chart_options)
    case = only_case(PHARYNGITIS, chart)
    assert case.in_denominator is False
    assert why in case.reasons[-1]


def test_three_years_old_on_the_visit_day_is_in():
    """A third birthday on the visit date qualifies."""
    chart, _ = treated_visit(birth=date(2023, 3, 2))
    assert only_case(PHARYNGITIS, chart).in_denominator is True


def test_window_still_open_at_the_data_end():
    """Until start + 72 h is in the data, the visit is not counted yet."""
    chart, _ = treated_visit()
    assert only_case(PHARYNGITIS, chart, as_of=START + hours(71)).in_denominator is False
    assert only_case(PHARYNGITIS, chart, as_of=START + hours(72)).in_denominator is True


def test_uri_measure_still_treats_pharyngitis_as_competing():
    """The new kind leaves CMS154's use of pharyngitis untouched."""
    chart, visit = treated_visit()
    chart.condition(codes.URI[0], visit, onset="2026-03-02")
    cases = evaluate(URI, chart)
    assert [case.excluded for case in cases] == [True]


def test_a_longer_test_window_is_waited_for_too():
    """With a test window longer than the antibiotic one, the case waits for the test window."""
    measure = measures()[PHARYNGITIS]
    longer = {**measure.criteria["strep_test"], "hours_after_start": 96}
    definition = replace(measure, criteria={**measure.criteria, "strep_test": longer})
    chart, _ = treated_visit()
    [case] = evaluate_patient([definition], chart.resources, as_of=START + hours(80))
    assert case.in_denominator is False
    assert "strep test window ends" in case.reasons[-1]

"""URI / acute bronchitis antibiotic avoidance: denominator, exclusions and the 72-hour window."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.devtools.synthetic import codes
from tests.outcomes.charts import AAB, AMOXICILLIN, URI, Chart, at, evaluate, hours, only_case

START = at("2026-03-02T10:00")


def uri_chart(start=START, kind: str = "AMB", **options) -> tuple[Chart, str]:
    """A chart with one URI visit (diagnosis linked to the encounter)."""
    chart = Chart(birth=options.pop("birth", date(1980, 1, 1)))
    visit = chart.visit(start, kind, **options)
    chart.condition(codes.URI[0], visit, onset=start.date().isoformat())
    return chart, visit


def test_no_antibiotic_is_appropriate_treatment():
    """A URI visit with no antibiotic is in the numerator, attributed to the attending."""
    chart, visit = uri_chart(clinician="C07")
    case = only_case(URI, chart)
    assert (case.in_denominator, case.excluded, case.in_numerator) == (True, False, True)
    assert (case.encounter_id, case.clinician, case.period_start) == (
        visit,
        "Practitioner/C07",
        START,
    )


@pytest.mark.parametrize(
    ("offset", "appropriate"),
    [
        (timedelta(0), False),
        (hours(71) + timedelta(minutes=59), False),
        (hours(72), False),
        (hours(72) + timedelta(minutes=1), True),
        (timedelta(days=10), True),
    ],
    ids=["at-start", "71h59", "exactly-72h", "72h-plus-1min", "day-10"],
)
def test_antibiotic_window_is_start_to_72_hours_inclusive(offset, appropriate):
    """An order authored in [start, start + 72 h] makes the visit inappropriate; later does not."""
    chart, _ = uri_chart()
    chart.order(AMOXICILLIN, START + offset)
    assert only_case(URI, chart).in_numerator is appropriate


def test_antibiotic_from_another_clinician_or_visit_still_counts():
    """CMS154 counts any antibiotic order in the window, whoever ordered it."""
    chart, _ = uri_chart(clinician="C02")
    revisit = chart.visit(START + hours(30), clinician="C05")
    chart.order(AMOXICILLIN, START + hours(30) + timedelta(minutes=10), revisit)
    assert only_case(URI, chart).in_numerator is False


def test_untimed_antibiotic_counts_only_when_linked_to_the_visit():
    """No authoredOn: counted when it references this encounter, ignored (with a note) if not."""
    chart, visit = uri_chart()
    chart.order(AMOXICILLIN, None, visit)
    assert only_case(URI, chart).in_numerator is False
    chart, _ = uri_chart()
    chart.order(AMOXICILLIN, None)
    case = only_case(URI, chart)
    assert case.in_numerator is True
    assert any("no authoredOn and no encounter" in reason for reason in case.reasons)


@pytest.mark.parametrize("status", ["cancelled", "entered-in-error", "draft"])
def test_void_orders_do_not_count(status):
    """Cancelled, entered-in-error and draft orders are not antibiotic orders."""
    chart, visit = uri_chart()
    chart.order(AMOXICILLIN, START + hours(1), visit, status=status)
    assert only_case(URI, chart).in_numerator is True


def test_non_antibiotic_orders_do_not_count():
    """Only codes in the antibiotic value set count (a beta blocker does not)."""
    chart, visit = uri_chart()
    chart.order(codes.BETA_BLOCKERS[0], START + hours(1), visit)
    assert only_case(URI, chart).in_numerator is True


@pytest.mark.parametrize(
    ("recorded", "excluded"),
    [("2026-03-02T10:05", True), ("2026-03-05T23:59", True), ("2026-03-06T00:00", False)],
    ids=["day-0", "day-3-last-minute", "day-4"],
)
def test_competing_diagnosis_window_is_day_0_to_day_3(recorded, excluded):
    """An unlinked competing diagnosis excludes the visit when dated day 0 to day 3."""
    chart, _ = uri_chart()
    chart.condition(codes.COMPETING[1], recorded=at(recorded).isoformat().replace("+00:00", "Z"))
    case = only_case(URI, chart)
    assert case.excluded is excluded
    assert case.in_numerator is not excluded


def test_competing_diagnosis_at_the_visit_excludes_whatever_its_onset():
    """A competing diagnosis linked to the encounter excludes it even with an earlier onset."""
    chart, visit = uri_chart()
    chart.condition(codes.COMPETING[3], visit, onset="2026-02-20")
    chart.order(AMOXICILLIN, START + hours(1), visit)
    case = only_case(URI, chart)
    assert (case.excluded, case.in_numerator) == (True, False)
    assert "competing diagnosis" in case.exclusion_reason


def test_refuted_competing_diagnosis_does_not_exclude():
    """A refuted competing diagnosis is ignored."""
    chart, visit = uri_chart()
    chart.condition(codes.COMPETING[0], visit, verification="refuted")
    assert only_case(URI, chart).excluded is False


def test_pharyngitis_is_competing_as_in_cms154():
    """Acute pharyngitis (measure-only value set) is a competing diagnosis."""
    chart, visit = uri_chart()
    chart.condition(codes.COMPETING[4], visit)
    assert only_case(URI, chart).excluded is True


@pytest.mark.parametrize(
    ("options", "excluded"),
    [
        ({"onset": "2015-06-01"}, True),
        ({"onset": "2026-03-02"}, True),
        ({"onset": "2026-03-03"}, False),
        ({"onset": "2020-01-01", "clinical": "resolved", "abatement": "2025-03-02"}, True),
        ({"onset": "2020-01-01", "clinical": "resolved", "abatement": "2025-03-01"}, False),
        ({"onset": "2025-03-02", "clinical": "resolved"}, True),
        ({"onset": "2025-03-01", "clinical": "resolved"}, False),
    ],
    ids=[
        "active-for-years",
        "diagnosed-same-day",
        "diagnosed-next-day",
        "abated-exactly-1-year-before",
        "abated-1-year-and-1-day-before",
        "resolved-undated-1-year",
        "resolved-undated-older",
    ],
)
def test_comorbid_condition_overlapping_the_prior_year_excludes(options, excluded):
    """Prevalence [onset, abatement] overlapping [date - 1 year, date] excludes the visit."""
    chart, _ = uri_chart()
    chart.condition(codes.COMORBID[0], category="problem-list-item", **options)
    assert only_case(URI, chart).excluded is excluded


COPD = (
    (codes.ICD10CM, "J44.9", "Chronic obstructive pulmonary disease, unspecified"),
    (codes.ICD10CM, "J44.1", "Chronic obstructive pulmonary disease with (acute) exacerbation"),
)


@pytest.mark.parametrize("measure", [URI, AAB])
@pytest.mark.parametrize("coding", COPD, ids=["J44.9", "J44.1"])
def test_copd_excludes_uri_and_bronchitis(measure, coding):
    """A patient with COPD on the problem list: the URI or bronchitis visit is excluded."""
    chart = Chart()
    visit = chart.visit(START)
    diagnosis = codes.URI[0] if measure == URI else codes.BRONCHITIS[0]
    chart.condition(diagnosis, visit, onset=START.date().isoformat())
    chart.condition((coding,), category="problem-list-item", onset="2019-05-01")
    case = only_case(measure, chart)
    assert (case.in_denominator, case.excluded, case.in_numerator) == (True, True, False)
    assert coding[1] in case.exclusion_reason


CMS154_COMORBIDITIES = (
    (
        codes.ICD10CM,
        "C34.90",
        "Malignant neoplasm of unspecified part of unspecified bronchus or lung",
    ),
    (codes.ICD10CM, "A15.0", "Tuberculosis of lung"),
    (codes.SNOMED, "417517009", "Sickle cell-hemoglobin C disease with crisis (disorder)"),
    # billable since the 2024 eCQM expansion listed its parent C43.11, now a header
    (codes.ICD10CM, "C43.111", "Malignant melanoma of right upper eyelid, including canthus"),
)


@pytest.mark.parametrize("measure", [URI, AAB])
@pytest.mark.parametrize(
    "coding", CMS154_COMORBIDITIES, ids=["lung-cancer", "tuberculosis", "sickle-cell", "melanoma"]
)
def test_cms154_comorbidities_exclude_uri_and_bronchitis(measure, coding):
    """Cancer, tuberculosis or sickle-cell disease in the prior year excludes the visit (CMS154)."""
    chart = Chart()
    visit = chart.visit(START)
    diagnosis = codes.URI[0] if measure == URI else codes.BRONCHITIS[0]
    chart.condition(diagnosis, visit, onset=START.date().isoformat())
    chart.condition((coding,), category="problem-list-item", onset="2025-09-01")
    case = only_case(measure, chart)
    assert (case.in_denominator, case.excluded, case.in_numerator) == (True, True, False)
    assert coding[1] in case.exclusion_reason


@pytest.mark.parametrize(
    ("before", "excluded"),
    [
        (timedelta(minutes=1), True),
        (timedelta(days=30), True),
        (timedelta(days=30, minutes=1), False),
    ],
    ids=["1-minute-before", "exactly-30-days", "30-days-plus-1-minute"],
)
def test_antibiotic_history_is_the_30_days_before_start(before, excluded):
    """An antibiotic authored in [start - 30 days, start) excludes the visit."""
    chart, _ = uri_chart()
    chart.order(AMOXICILLIN, START - before, status="completed")
    assert only_case(URI, chart).excluded is excluded


def test_antibiotic_still_active_from_longer_ago_excludes():
    """An older order whose dosage bounds reach into the 30 days before also excludes."""
    chart, _ = uri_chart()
    authored = START - timedelta(days=60)
    chart.order(AMOXICILLIN, authored, bounds=(authored, START - timedelta(days=20)))
    assert only_case(URI, chart).excluded is True


@pytest.mark.parametrize(
    ("when", "excluded"),
    [
        (timedelta(days=-365), True),
        (timedelta(days=-366), False),
        (timedelta(days=3), True),
        (timedelta(days=4), False),
    ],
    ids=["365-days-before", "366-days-before", "day-3", "day-4"],
)
def test_hospice_window(when, excluded):
    """Hospice care from 365 days before to 3 days after the visit date excludes it."""
    chart, _ = uri_chart()
    chart.procedure(codes.HOSPICE_CARE, START + when)
    assert only_case(URI, chart).excluded is excluded


@pytest.mark.parametrize(
    ("chart_options", "why"),
    [
        ({"birth": date(2025, 12, 3)}, "under 3 months"),
        ({"birth": None}, "no birth date"),
        ({"kind": "IMP"}, "class IMP"),
        ({"status": "cancelled"}, "status cancelled"),
    ],
    ids=["aged-2-months", "no-birth-date", "inpatient", "cancelled"],
)
def test_not_in_denominator(chart_options, why):
    """Age, class and status decide the denominator; the case says why."""
    chart, _ = uri_chart(**chart_options)
    case = only_case(URI, chart)
    assert (case.in_denominator, case.in_numerator) == (False, False)
    assert why in case.reasons[-1]


def test_three_months_old_is_in_the_denominator():
    """Exactly 3 completed months of age qualifies."""
    chart, _ = uri_chart(birth=date(2025, 12, 2))
    assert only_case(URI, chart).in_denominator is True


def test_missing_start_time_is_not_in_the_denominator():
    """An encounter without period.start cannot be placed: not in the denominator."""
    chart = Chart()
    visit = chart.visit(None)
    chart.condition(codes.URI[0], visit)
    case = only_case(URI, chart)
    assert (case.in_denominator, case.period_start) == (False, None)


def test_window_still_open_at_the_data_end():
    """A visit whose 72 h window ends after as_of waits for more data."""
    chart, _ = uri_chart()
    assert only_case(URI, chart, as_of=START + hours(71)).in_denominator is False
    assert only_case(URI, chart, as_of=START + hours(72)).in_denominator is True


def test_diagnosis_attached_three_ways():
    """Condition.encounter, Encounter.diagnosis, or an unlinked same-day Condition."""
    chart = Chart()
    linked = chart.visit(START, diagnoses=("cond-x",))
    chart.condition(codes.URI[1], condition_id="cond-x", recorded="2026-01-01")
    same_day = chart.visit(START + timedelta(days=40))
    chart.condition(codes.URI[0], recorded="2026-04-11T10:10:00Z")
    chart.visit(START + timedelta(days=80))  # a visit with no URI diagnosis: no case
    cases = evaluate(URI, chart)
    assert [case.encounter_id for case in cases] == [linked, same_day]


def test_multiple_visits_each_get_a_case():
    """Two URI visits 60 days apart are two cases, each judged on its own window."""
    chart, first = uri_chart(clinician="C02")
    second = chart.visit(START + timedelta(days=60), clinician="C03")
    chart.condition(codes.URI[0], second)
    chart.order(AMOXICILLIN, START + timedelta(days=60, minutes=15), second)
    cases = {case.encounter_id: case for case in evaluate(URI, chart)}
    assert cases[first].in_numerator is True
    assert cases[second].in_numerator is False
    assert cases[second].clinician == "Practitioner/C03"


def test_attribution_prefers_the_attending_over_a_resident_listed_first():
    """Participant ATND wins over PART, whatever the order."""
    chart, _ = uri_chart(participants=[("PART", "R01"), ("ATND", "C04")])
    assert only_case(URI, chart).clinician == "Practitioner/C04"


def test_bronchitis_measure_uses_its_own_diagnoses():
    """Acute bronchitis visits count for the bronchitis measure, not for the URI measure."""
    chart = Chart()
    visit = chart.visit(START)
    chart.condition(codes.BRONCHITIS[0], visit)
    assert evaluate(URI, chart) == []
    assert only_case(AAB, chart).in_numerator is True

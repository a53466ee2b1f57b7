"""Rates, Wilson 95% intervals, grouping by clinician and period, before/after, small cells."""

from __future__ import annotations

from datetime import date

import pytest

from app.outcomes.case_rates import (
    before_after,
    by_clinician,
    by_month,
    by_quarter,
    element_rates,
    summarize,
)
from app.outcomes.cases import MeasureCase
from app.stats import Rate, wilson_interval
from tests.outcomes.charts import at


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (8, 10, 0.4902, 0.9433),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (1, 2, 0.0945, 0.9055),
        (50, 100, 0.4038, 0.5962),
        (1, 1, 0.2065, 1.0),
    ],
)
def test_wilson_interval_known_values(successes, trials, low, high):
    """Wilson score interval with z = 1.96, to 4 decimals (published reference values)."""
    interval = wilson_interval(successes, trials)
    assert interval is not None
    assert (round(interval[0], 4), round(interval[1], 4)) == (low, high)


def test_wilson_interval_edges():
    """No trials: no interval; impossible counts raise."""
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def case(number: int, **facts) -> MeasureCase:
    """A case with defaults: in the denominator, not excluded, in the numerator."""
    defaults = {
        "measure_id": "m",
        "patient_key": f"p{number}",
        "encounter_id": f"e{number}",
        "clinician": "Practitioner/C01",
        "period_start": at("2026-03-15T10:00"),
        "in_denominator": True,
        "in_numerator": True,
    }
    return MeasureCase(**(defaults | facts))


def test_rate_is_numerator_over_denominator_minus_exclusions():
    """Excluded and out-of-denominator cases do not count; the rate carries its interval."""
    cases = [
        *(case(n) for n in range(8)),
        case(8, in_numerator=False),
        case(9, in_numerator=False),
        case(10, excluded=True, in_numerator=False),
        case(11, in_denominator=False, in_numerator=False),
    ]
    rate = summarize(cases)
    assert rate == Rate(numerator=8, denominator=11, excluded=1)
    assert (rate.eligible, rate.rate, rate.small_cell) == (10, 0.8, False)
    assert rate.as_dict()["ci95"] == pytest.approx([0.4902, 0.9433], abs=1e-4)


def test_small_cells_are_flagged():
    """Fewer than 5 eligible cases are a small cell; no cases means no rate."""
    assert summarize([case(n) for n in range(4)]).small_cell is True
    assert summarize([case(n) for n in range(5)]).small_cell is False
    empty = summarize([])
    assert (empty.rate, empty.interval, empty.small_cell) == (None, None, True)


def test_grouping_by_clinician_month_and_quarter():
    """Groups are keyed by clinician reference, 'YYYY-MM' and 'YYYY-Qn' (UTC)."""
    cases = [
        case(1, clinician="Practitioner/C02", period_start=at("2026-01-31T23:30")),
        case(2, clinician=None, period_start=at("2026-02-01T00:30"), in_numerator=False),
        case(3, period_start=at("2026-04-01T00:00")),
        case(4, period_start=None),
    ]
    assert by_clinician(cases) == {
        "Practitioner/C01": Rate(2, 2),
        "Practitioner/C02": Rate(1, 1),
        "unattributed": Rate(0, 1),
    }
    assert by_month(cases) == {"2026-01": Rate(1, 1), "2026-02": Rate(0, 1), "2026-04": Rate(1, 1)}
    assert by_quarter(cases) == {"2026-Q1": Rate(1, 2), "2026-Q2": Rate(1, 1)}


def test_before_and_after_a_completion_date():
    """Before: strictly earlier than midnight UTC of the date; after: from it on."""
    cases = [
        case(1, period_start=at("2026-04-30T23:59"), in_numerator=False),
        case(2, period_start=at("2026-05-01T00:00")),
        case(3, period_start=at("2026-06-01T00:00"), clinician="Practitioner/C09"),
    ]
    assert before_after(cases, date(2026, 5, 1)) == (Rate(0, 1), Rate(2, 2))
    mine = before_after(cases, date(2026, 5, 1), clinician="Practitioner/C01")
    assert mine == (Rate(0, 1), Rate(1, 1))


def test_element_rates_count_only_eligible_cases_where_the_element_applies():
    """None means the element does not apply; excluded cases are left out."""
    cases = [
        case(1, elements={"lactate": True, "repeat": None}),
        case(2, elements={"lactate": False, "repeat": True}, in_numerator=False),
        case(3, elements={"lactate": True, "repeat": False}, excluded=True, in_numerator=False),
    ]
    assert element_rates(cases) == {"lactate": Rate(1, 2), "repeat": Rate(1, 1)}

"""Quantiles and the corrected item-total (point-biserial) correlation, checked by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import stats

# Five learners' 0/1 scores on one item and their case totals (the item included).
ITEM = [1, 1, 0, 0, 1]
TOTALS = [3, 2, 1, 0, 2]


def test_corrected_item_total_by_hand():
    """Rest scores 2,1,1,0,1: sum of products 1.0, sums of squares 1.2 and 2, r = 1/sqrt(2.4)."""
    assert stats.corrected_item_total(ITEM, TOTALS) == pytest.approx(1 / math.sqrt(2.4))


def test_corrected_item_total_equals_the_point_biserial_formula():
    """(M1 - M0) / s * sqrt(pq): rest means 4/3 (correct) and 1/2 (wrong), population sd."""
    rest = [2, 1, 1, 0, 1]
    sd = math.sqrt(sum((r - 1) ** 2 for r in rest) / 5)
    formula = (4 / 3 - 1 / 2) / sd * math.sqrt(0.6 * 0.4)
    assert stats.corrected_item_total(ITEM, TOTALS) == pytest.approx(formula)


def test_an_item_everyone_gets_right_has_no_discrimination():
    """No variance in the item (or in the rest): undefined, not 0 and not an error."""
    assert stats.corrected_item_total([1, 1, 1], [3, 2, 1]) is None
    assert stats.corrected_item_total([1, 0], [2, 1]) is None  # rest scores 1 and 1
    assert stats.pearson([], []) is None


def test_mismatched_lengths_are_refused():
    """Paired values must pair up."""
    with pytest.raises(ValueError):
        stats.pearson([1, 2], [1])


def test_quantiles_by_hand():
    """Type 7: p90 of 1,2,3,4,10 sits at position 3.6, 4 + 0.6 x 6 = 7.6; medians as usual."""
    assert stats.quantile([10, 1, 3, 2, 4], 0.9) == pytest.approx(7.6)
    assert stats.median([1, 2, 3, 4, 10]) == 3
    assert stats.median([4, 1, 3, 2]) == 2.5
    assert stats.median([]) is None
    with pytest.raises(ValueError):
        stats.quantile([1], 1.5)


def test_small_count_is_the_rate_rule():
    """One small-cell threshold: fewer than 5."""
    assert stats.small_count(4) and not stats.small_count(5)
    assert stats.Rate(4, 4).small_cell and not stats.Rate(5, 5).small_cell


responses = st.lists(st.tuples(st.integers(0, 1), st.integers(0, 12)), min_size=2, max_size=60).map(
    lambda pairs: ([item for item, _ in pairs], [item + rest for item, rest in pairs])
)


@given(responses)
def test_discrimination_is_a_correlation(pairs):
    """Between -1 and 1, or None when the item or the rest does not vary."""
    item, totals = pairs
    found = stats.corrected_item_total(item, totals)
    rest = [t - i for i, t in zip(item, totals, strict=True)]
    if len(set(item)) == 1 or len(set(rest)) == 1:
        assert found is None
    else:
        assert -1 <= found <= 1


@given(responses, st.integers(-50, 50))
def test_discrimination_ignores_a_shift_of_every_score(pairs, shift):
    """Adding the same number to every learner's total (e.g. a bonus item) changes nothing."""
    item, totals = pairs
    before = stats.corrected_item_total(item, totals)
    after = stats.corrected_item_total(item, [t + shift for t in totals])
    assert (before is None and after is None) or after == pytest.approx(before, abs=1e-9)


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50), st.floats(0, 1))
def test_quantiles_lie_within_the_values_and_grow_with_the_fraction(values, fraction):
    """min <= q(f) <= max, and q is monotone in f."""
    found = stats.quantile(values, fraction)
    assert min(values) - 1e-6 <= found <= max(values) + 1e-6
    assert stats.quantile(values, 0) <= found + 1e-6 <= stats.quantile(values, 1) + 2e-6

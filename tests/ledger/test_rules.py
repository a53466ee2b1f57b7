"""Credit rules at every boundary: pass mark, duplicates, credit types, annual cap, PoC window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.ledger.rules import (
    CreditAward,
    CreditPolicy,
    HeldCredit,
    PocCycle,
    Refusal,
    activity_key,
    apply_annual_cap,
    as_amount,
    case_credit,
    cycle_expired,
    floor_increment,
    passed,
    poc_credit_outlook,
    poc_cycle_credit,
    question_fingerprint,
)
from tests.ledger.helpers import T0, module

POLICY = CreditPolicy()
AMA, AAFP, ANCC = "ama-pra-category-1", "aafp-prescribed", "ancc-contact-hours"
CASE_KEY = "case:sepsis-hour-1-bundle@1.0.0"
POC_KEY = "poc:sepsis-hour-1-bundle@1.0.0"
WINDOW = POLICY.poc_application_window


def held(
    amount: str, credit_type: str = AMA, key: str = "case:other@1.0.0", at=T0, attempt=None
) -> HeldCredit:
    """A credit the learner already holds (earned by `attempt`, when said)."""
    return HeldCredit(key, credit_type, Decimal(amount), at, attempt)


def cycle(**steps: datetime | None) -> PocCycle:
    """A PoC cycle started at T0 with the given step times (all at T0 unless said)."""
    times = {"question_at": T0, "sources_at": T0, "application_at": T0} | steps
    return PocCycle(POC_KEY, T0, "cycle-2", **times)


# --- pass mark -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("correct", "total", "mark", "expected"),
    [
        (3, 4, 75, True),  # exactly the pass mark
        (2, 4, 75, False),  # one question below
        (2, 3, 67, False),  # 66.67% is below 67%, with no floating-point rounding
        (2, 3, 66, True),
        (5, 5, 100, True),
        (4, 5, 100, False),
        (0, 0, 50, False),  # no questions answered is never a pass
    ],
)
def test_pass_mark_is_exact(correct, total, mark, expected):
    assert passed(correct, total, mark) is expected


def test_a_case_passed_exactly_at_the_pass_mark_earns_each_designated_credit_type():
    awards = case_credit(module(), 3, 4, [], POLICY, T0)
    assert awards == [
        CreditAward(AMA, Decimal("0.25"), Decimal("0.25")),
        CreditAward(AAFP, Decimal("0.25"), Decimal("0.25")),
    ]


def test_a_case_one_answer_below_the_pass_mark_earns_nothing():
    refusal = case_credit(module(), 2, 4, [], POLICY, T0)
    assert refusal == Refusal("below-pass-mark", "2 of 4 correct is below the pass mark of 75%.")


# --- duplicates ------------------------------------------------------------------------------


def test_the_same_module_version_is_credited_once():
    earlier = [held("0.25", AMA, CASE_KEY), held("0.25", AAFP, CASE_KEY)]
    refusal = case_credit(module(), 4, 4, earlier, POLICY, T0)
    assert isinstance(refusal, Refusal) and refusal.reason == "duplicate"


def test_a_new_module_version_is_credited_again():
    earlier = [held("0.25", AMA, CASE_KEY), held("0.25", AAFP, CASE_KEY)]
    awards = case_credit(module(version="1.1.0"), 4, 4, earlier, POLICY, T0)
    assert [award.credit_type for award in awards] == [AMA, AAFP]


def test_only_the_credit_type_not_yet_held_is_granted():
    # e.g. the AAFP record was reversed, so only AMA is still held for this version
    awards = case_credit(module(), 4, 4, [held("0.25", AMA, CASE_KEY)], POLICY, T0)
    assert awards == [CreditAward(AAFP, Decimal("0.25"), Decimal("0.25"))]


# --- credit types ----------------------------------------------------------------------------


def test_every_mapped_credit_type_is_granted():
    credit = [
        {"type": AMA, "amount": 0.5},
        {"type": AAFP, "amount": 0.5},
        {"type": ANCC, "amount": 0.75},
    ]
    awards = case_credit(module(credit=credit), 3, 4, [], POLICY, T0)
    assert {(a.credit_type, a.amount) for a in awards} == {
        (AMA, Decimal("0.5")),
        (AAFP, Decimal("0.5")),
        (ANCC, Decimal("0.75")),
    }


def test_types_the_provider_does_not_award_are_left_out():
    policy = CreditPolicy(awarded_types=frozenset({AMA}))
    awards = case_credit(module(), 3, 4, [], policy, T0)
    assert [award.credit_type for award in awards] == [AMA]


def test_an_activity_with_no_awardable_credit_is_refused():
    policy = CreditPolicy(awarded_types=frozenset({ANCC}))
    refusal = case_credit(module(), 3, 4, [], policy, T0)
    assert isinstance(refusal, Refusal) and refusal.reason == "no-credit"


# --- annual cap ------------------------------------------------------------------------------


def test_credit_that_reaches_the_cap_exactly_is_granted_in_full():
    awards = apply_annual_cap([(AMA, Decimal("0.25"))], [held("19.75")], POLICY, T0)
    assert awards == [CreditAward(AMA, Decimal("0.25"), Decimal("0.25"))]


def test_credit_that_would_exceed_the_cap_is_granted_up_to_the_cap():
    awards = apply_annual_cap([(AMA, Decimal("0.50"))], [held("19.75")], POLICY, T0)
    assert awards == [CreditAward(AMA, Decimal("0.25"), Decimal("0.50"))]


def test_nothing_is_granted_once_the_cap_is_met():
    refusal = case_credit(
        module(credit=[{"type": AMA, "amount": 0.25}]), 4, 4, [held("20")], POLICY, T0
    )
    assert isinstance(refusal, Refusal) and refusal.reason == "annual-cap-reached"


def test_the_cap_is_per_credit_type():
    awards = case_credit(module(), 4, 4, [held("20", AMA)], POLICY, T0)
    assert awards == [CreditAward(AAFP, Decimal("0.25"), Decimal("0.25"))]


def test_credit_from_last_year_does_not_count_toward_this_years_cap():
    last_year = held("20", at=datetime(2025, 12, 31, 23, 59, tzinfo=UTC))
    awards = apply_annual_cap([(AMA, Decimal("0.5"))], [last_year], POLICY, T0)
    assert awards == [CreditAward(AMA, Decimal("0.5"), Decimal("0.5"))]


def test_the_cap_year_is_the_utc_calendar_year():
    pacific = timezone(timedelta(hours=-8))
    new_years_eve_local = datetime(2026, 12, 31, 17, 0, tzinfo=pacific)  # 2027-01-01 01:00 UTC
    awards = apply_annual_cap([(AMA, Decimal("0.5"))], [held("20")], POLICY, new_years_eve_local)
    assert awards == [CreditAward(AMA, Decimal("0.5"), Decimal("0.5"))]


def test_partial_credit_is_rounded_down_to_quarter_credits():
    policy = CreditPolicy(annual_cap={AMA: Decimal("20.10")})
    awards = apply_annual_cap([(AMA, Decimal("0.5"))], [held("19.75")], policy, T0)
    assert awards == [CreditAward(AMA, Decimal("0.25"), Decimal("0.5"))]


def test_an_uncapped_type_is_never_cut():
    awards = apply_annual_cap([(ANCC, Decimal("2"))], [held("500", ANCC)], POLICY, T0)
    assert awards == [CreditAward(ANCC, Decimal("2"), Decimal("2"))]


@given(
    earlier=st.lists(
        st.integers(min_value=1, max_value=20).map(lambda q: Decimal(q) / 4), max_size=30
    ),
    designated=st.integers(min_value=1, max_value=20).map(lambda q: Decimal(q) / 4),
    cap=st.integers(min_value=0, max_value=80).map(lambda q: Decimal(q) / 4),
)
def test_the_cap_is_never_exceeded(earlier, designated, cap):
    policy = CreditPolicy(annual_cap={AMA: cap})
    holdings = [held(str(amount)) for amount in earlier]
    used = sum(earlier, Decimal(0))
    for award in apply_annual_cap([(AMA, designated)], holdings, policy, T0):
        assert 0 < award.amount <= designated
        assert used + award.amount <= max(cap, used)
        assert award.amount % Decimal("0.25") == 0


# --- point-of-care cycles --------------------------------------------------------------------


def test_a_complete_cycle_earns_half_a_credit():
    assert poc_cycle_credit(cycle(), [], POLICY, T0) == [
        CreditAward(AMA, Decimal("0.50"), Decimal("0.50"))
    ]


def test_an_application_recorded_exactly_at_the_end_of_the_window_counts():
    awards = poc_cycle_credit(cycle(application_at=T0 + WINDOW), [], POLICY, T0 + WINDOW)
    assert isinstance(awards, list) and awards[0].amount == Decimal("0.50")


def test_an_application_recorded_after_the_window_earns_nothing():
    late = T0 + WINDOW + timedelta(microseconds=1)
    refusal = poc_cycle_credit(cycle(application_at=late), [], POLICY, late)
    assert isinstance(refusal, Refusal) and refusal.reason == "cycle-expired"


def test_an_open_cycle_within_its_window_is_incomplete():
    refusal = poc_cycle_credit(cycle(application_at=None), [], POLICY, T0 + WINDOW)
    assert refusal == Refusal("cycle-incomplete", "Still to record: application.")


def test_an_open_cycle_past_its_window_has_expired():
    later = T0 + WINDOW + timedelta(microseconds=1)
    refusal = poc_cycle_credit(cycle(application_at=None), [], POLICY, later)
    assert isinstance(refusal, Refusal) and refusal.reason == "cycle-expired"


def test_cycle_expiry_is_inclusive_of_the_deadline():
    open_cycle = cycle(sources_at=None, application_at=None)
    assert not cycle_expired(open_cycle, POLICY, T0 + WINDOW)
    assert cycle_expired(open_cycle, POLICY, T0 + WINDOW + timedelta(microseconds=1))
    assert not cycle_expired(cycle(), POLICY, T0 + 10 * WINDOW)


def test_the_window_is_configurable():
    policy = CreditPolicy(poc_application_window=timedelta(hours=1))
    refusal = poc_cycle_credit(cycle(application_at=T0 + timedelta(hours=2)), [], policy, T0)
    assert isinstance(refusal, Refusal) and refusal.reason == "cycle-expired"


def test_a_cycle_on_a_module_version_already_credited_is_a_duplicate():
    refusal = poc_cycle_credit(cycle(), [held("0.5", AMA, POC_KEY, attempt="cycle-2")], POLICY, T0)
    assert isinstance(refusal, Refusal) and refusal.reason == "duplicate"


def test_a_cycle_asking_a_question_already_credited_in_another_cycle_earns_nothing():
    earlier = [held("0.5", AMA, POC_KEY, attempt="cycle-1")]
    refusal = poc_cycle_credit(cycle(), earlier, POLICY, T0, frozenset({"cycle-1"}))
    assert isinstance(refusal, Refusal) and refusal.reason == "same-question"


def test_a_repeated_question_whose_credit_was_reversed_earns_again():
    other_question = [held("0.5", AMA, POC_KEY, attempt="cycle-1")]
    awards = poc_cycle_credit(cycle(), other_question, POLICY, T0, frozenset({"cycle-0"}))
    assert awards == [CreditAward(AMA, Decimal("0.50"), Decimal("0.50"))]


def test_a_question_is_the_same_whatever_its_case_accents_punctuation_or_spacing():
    asked = question_fingerprint("¿Cuándo  repetir el LACTATO en la sepsis?")
    assert asked == question_fingerprint("cuando repetir el lactato en la sepsis")
    assert asked != question_fingerprint("Cuándo repetir el lactato en el shock séptico")


def test_each_completed_cycle_of_a_module_earns_its_own_credit():
    earlier = [held("0.5", AMA, POC_KEY, attempt=f"cycle-{n}") for n in (0, 1)]
    assert poc_cycle_credit(cycle(), earlier, POLICY, T0) == [
        CreditAward(AMA, Decimal("0.50"), Decimal("0.50"))
    ]


def test_the_outlook_says_before_a_cycle_what_it_would_earn_under_the_cap():
    assert poc_credit_outlook([held("19.5")], POLICY, T0) == [
        CreditAward(AMA, Decimal("0.50"), Decimal("0.50"))
    ]
    assert poc_credit_outlook([held("19.75")], POLICY, T0) == [
        CreditAward(AMA, Decimal("0.25"), Decimal("0.50"))
    ]
    refusal = poc_credit_outlook([held("20")], POLICY, T0)
    assert isinstance(refusal, Refusal) and refusal.reason == "annual-cap-reached"
    next_year = T0.replace(year=T0.year + 1)
    assert poc_credit_outlook([held("20")], POLICY, next_year)[0].amount == Decimal("0.50")


def test_poc_credit_maps_to_several_types_when_configured():
    policy = CreditPolicy(poc_credit=((AMA, Decimal("0.5")), (AAFP, Decimal("0.5"))))
    awards = poc_cycle_credit(cycle(), [], policy, T0)
    assert [award.credit_type for award in awards] == [AMA, AAFP]


def test_poc_credit_is_capped_like_any_other():
    awards = poc_cycle_credit(cycle(), [held("19.75")], POLICY, T0)
    assert awards == [CreditAward(AMA, Decimal("0.25"), Decimal("0.50"))]


# --- small pieces ----------------------------------------------------------------------------


def test_amounts_are_exact_decimals():
    assert as_amount(0.25) == Decimal("0.25")
    assert sum([as_amount(0.1)] * 3, Decimal(0)) == Decimal("0.3")


@pytest.mark.parametrize("bad", [0, -0.25, "NaN", "Infinity"])
def test_amounts_must_be_positive_and_finite(bad):
    with pytest.raises(ValueError):
        as_amount(bad)


def test_floor_increment_never_goes_negative():
    assert floor_increment(Decimal("-1")) == 0
    assert floor_increment(Decimal("0.74")) == Decimal("0.50")


def test_activity_keys_name_type_module_and_version():
    assert activity_key("case", "sepsis", "1.2.0") == "case:sepsis@1.2.0"
    with pytest.raises(ValueError):
        activity_key("webinar", "sepsis", "1.2.0")

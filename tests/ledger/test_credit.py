"""Claiming credit end to end: attempts in the store, rules deciding inside the transaction."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from app.ledger.chain import timestamp
from app.ledger.credit import claim_case_credit, claim_poc_credit
from app.ledger.models import Answer, AttemptNotFinished, Submission, UnknownRecord
from app.ledger.rules import CreditPolicy
from app.ledger.verify import verify_chain
from tests.ledger.helpers import ISSUER, T0, award, module, request

POLICY = CreditPolicy()
WINDOW = POLICY.poc_application_window


def case_attempt(store, learner, case, correct: int, total: int = 4) -> str:
    """Record a completed case attempt; return its id."""
    attempt_id = str(uuid.uuid4())
    store.record_attempt(learner, ("case", case["id"], case["version"]), attempt_id, T0)
    store.complete_attempt(attempt_id, correct, total, case["pass_mark_percent"])
    return attempt_id


def poc_attempt(
    store, learner, clock, steps=("question", "sources", "application"), module_id="sepsis"
) -> str:
    """Start a point-of-care cycle now and record the given steps; return its id."""
    attempt_id = str(uuid.uuid4())
    store.record_attempt(learner, ("poc", module_id, "1.0.0"), attempt_id, clock())
    for step in steps:
        store.record_answer(Answer(attempt_id, step, {"note": f"{step} recorded"}, clock()))
    return attempt_id


def test_a_passed_case_earns_its_credit_with_the_score_as_evidence(store, learner):
    case = module()
    submission = claim_case_credit(
        store, POLICY, case, learner, case_attempt(store, learner, case, 3), "k1"
    )
    assert [(r.credit_type, r.amount) for r in submission.records] == [
        ("ama-pra-category-1", Decimal("0.25")),
        ("aafp-prescribed", Decimal("0.25")),
    ]
    record = submission.records[0]
    assert json.loads(record.evidence) == {"correct": 3, "total": 4, "pass_mark_percent": 75}
    assert (record.module_id, record.module_version, record.earned_at) == (
        case["id"],
        "1.0.0",
        timestamp(T0),
    )


def test_a_failed_case_is_refused_and_the_refusal_is_kept_for_the_key(store, learner):
    case = module()
    attempt = case_attempt(store, learner, case, 2)
    refused = claim_case_credit(store, POLICY, case, learner, attempt, "k1")
    assert refused.refusal.reason == "below-pass-mark"
    replayed = claim_case_credit(store, POLICY, case, learner, attempt, "k1")
    assert replayed == Submission(created=False, refusal=refused.refusal)


def test_a_second_pass_of_the_same_version_is_a_duplicate_but_a_new_version_earns(store, learner):
    first = module()
    claim_case_credit(store, POLICY, first, learner, case_attempt(store, learner, first, 4), "k1")
    again = claim_case_credit(
        store, POLICY, first, learner, case_attempt(store, learner, first, 4), "k2"
    )
    assert again.refusal.reason == "duplicate"
    revised = module(version="1.1.0")
    newer = claim_case_credit(
        store, POLICY, revised, learner, case_attempt(store, learner, revised, 4), "k3"
    )
    assert len(newer.records) == 2


def test_after_a_reversal_the_case_can_be_credited_again(store, learner):
    case = module(credit=[{"type": "ama-pra-category-1", "amount": 1}])
    claim_case_credit(store, POLICY, case, learner, case_attempt(store, learner, case, 4), "k1")
    store.append_reversal(1, "recorded in error", "k2")
    again = claim_case_credit(
        store, POLICY, case, learner, case_attempt(store, learner, case, 4), "k3"
    )
    assert again.records[0].amount == Decimal("1.00")


def test_only_the_learners_own_completed_attempt_at_that_module_counts(store, learner):
    case = module()
    attempt = str(uuid.uuid4())
    store.record_attempt(learner, ("case", case["id"], "1.0.0"), attempt, T0)
    with pytest.raises(AttemptNotFinished):
        claim_case_credit(store, POLICY, case, learner, attempt, "k1")
    store.complete_attempt(attempt, 4, 4, 75)
    someone_else = store.ensure_learner(ISSUER, "Practitioner/999")
    with pytest.raises(UnknownRecord):
        claim_case_credit(store, POLICY, case, someone_else, attempt, "k1")
    with pytest.raises(UnknownRecord):
        claim_case_credit(store, POLICY, module("other"), learner, attempt, "k1")


def test_a_poc_cycle_earns_half_a_credit_when_the_application_comes_later(store, learner, clock):
    attempt = poc_attempt(store, learner, clock, ("question", "sources"))
    clock.advance(hours=8)  # end of the clinic day
    store.record_answer(Answer(attempt, "application", {"impact": "changed-management"}, clock()))
    submission = claim_poc_credit(store, POLICY, learner, attempt, "k1", clock())
    [record] = submission.records
    assert (record.activity_type, record.amount) == ("poc", Decimal("0.50"))
    assert record.earned_at == timestamp(T0 + timedelta(hours=8))
    assert json.loads(record.evidence)["question_at"] == timestamp(T0)


def test_every_completed_cycle_of_a_module_earns_once_and_the_chain_stays_valid(
    store, learner, clock
):
    first = poc_attempt(store, learner, clock)
    earned = claim_poc_credit(store, POLICY, learner, first, "k1", clock()).records
    chain_before = list(store.iter_chain())
    second = poc_attempt(store, learner, clock)
    assert claim_poc_credit(store, POLICY, learner, second, "k2", clock()).records
    replay = claim_poc_credit(store, POLICY, learner, second, "k2", clock())
    assert not replay.created and [r.attempt_id for r in replay.records] == [second]
    credits = store.credits_for(learner)
    assert [(r.attempt_id, r.amount) for r in credits] == [
        (first, Decimal("0.50")),
        (second, Decimal("0.50")),
    ]
    assert list(store.iter_chain())[: len(chain_before)] == chain_before  # appended only
    assert list(earned) == credits[:1]
    assert verify_chain(store).ok


def asked(store, learner, clock, question: str) -> str:
    """A finished cycle that asked `question`; return its id."""
    attempt = poc_attempt(store, learner, clock, ("sources", "application"))
    store.record_answer(Answer(attempt, "question", {"text": question, "reason": "other"}, clock()))
    return attempt


def test_a_second_cycle_asking_the_same_question_is_refused_and_a_new_question_earns(
    store, learner, clock
):
    first = asked(store, learner, clock, "Cultures before antibiotics in sepsis?")
    assert claim_poc_credit(store, POLICY, learner, first, "k1", clock()).records
    repeat = asked(store, learner, clock, "cultures before antibiotics in SEPSIS")
    refused = claim_poc_credit(store, POLICY, learner, repeat, "k2", clock())
    assert refused.refusal is not None and refused.refusal.reason == "same-question"
    fresh = asked(store, learner, clock, "When should lactate be remeasured in sepsis?")
    assert claim_poc_credit(store, POLICY, learner, fresh, "k3", clock()).records
    assert [r.attempt_id for r in store.credits_for(learner)] == [first, fresh]
    assert verify_chain(store).ok


def test_a_question_credited_in_an_earlier_year_on_another_module_is_refused(store, learner, clock):
    first = asked(store, learner, clock, "Cultures before antibiotics in sepsis?")
    assert claim_poc_credit(store, POLICY, learner, first, "k1", clock()).records
    clock.advance(days=400)
    repeat = poc_attempt(store, learner, clock, ("sources", "application"), module_id="pneumonia")
    question = {"text": "Cultures before antibiotics in sepsis", "reason": "other"}
    store.record_answer(Answer(repeat, "question", question, clock()))
    refused = claim_poc_credit(store, POLICY, learner, repeat, "k2", clock())
    assert refused.refusal is not None and refused.refusal.reason == "same-question"
    assert [r.attempt_id for r in store.credits_for(learner)] == [first]


def test_a_reversed_credit_frees_its_question_in_a_later_year(store, learner, clock):
    first = asked(store, learner, clock, "Cultures before antibiotics in sepsis?")
    (credit,) = claim_poc_credit(store, POLICY, learner, first, "k1", clock()).records
    store.append_reversal(credit.sequence, "claimed in error", "reverse-k1")
    clock.advance(days=400)
    again = asked(store, learner, clock, "Cultures before antibiotics in sepsis?")
    assert claim_poc_credit(store, POLICY, learner, again, "k2", clock()).records


def test_an_unfinished_cycle_is_refused_without_using_up_the_key(store, learner, clock):
    attempt = poc_attempt(store, learner, clock, ("question", "sources"))
    early = claim_poc_credit(store, POLICY, learner, attempt, "k1", clock())
    assert early.refusal.reason == "cycle-incomplete" and not early.created
    store.record_answer(Answer(attempt, "application", {"impact": "none"}, clock.advance(hours=1)))
    assert claim_poc_credit(store, POLICY, learner, attempt, "k1", clock()).records


def test_an_application_after_the_window_earns_nothing(store, learner, clock):
    attempt = poc_attempt(store, learner, clock, ("question", "sources"))
    store.record_answer(Answer(attempt, "application", {"impact": "none"}, clock.advance(hours=73)))
    refused = claim_poc_credit(store, POLICY, learner, attempt, "k1", clock())
    assert refused.refusal.reason == "cycle-expired" and refused.created
    assert store.credits_for(learner) == []


def test_a_cycle_left_open_past_its_window_has_expired(store, learner, clock):
    attempt = poc_attempt(store, learner, clock, ("question",))
    clock.advance(hours=72, microseconds=1)
    refused = claim_poc_credit(store, POLICY, learner, attempt, "k1", clock())
    assert refused.refusal.reason == "cycle-expired"


def test_the_annual_cap_applies_across_activities(store, learner, clock):
    store.append_credit(request(learner), [award("19.75")], "earlier")
    attempt = poc_attempt(store, learner, clock)
    [record] = claim_poc_credit(store, POLICY, learner, attempt, "k1", clock()).records
    assert (record.amount, record.designated_hundredths) == (Decimal("0.25"), 50)
    again = claim_poc_credit(store, POLICY, learner, attempt, "k2", clock())
    assert again.refusal.reason == "duplicate"  # the same cycle under another key
    same_module = poc_attempt(store, learner, clock)
    refused = claim_poc_credit(store, POLICY, learner, same_module, "k4", clock())
    assert refused.refusal.reason == "annual-cap-reached"
    other_module = poc_attempt(store, learner, clock, module_id="hfref-gdmt")
    refused = claim_poc_credit(store, POLICY, learner, other_module, "k3", clock())
    assert refused.refusal.reason == "annual-cap-reached"


def test_credits_of_several_learners_come_back_by_learner_in_chain_order(
    store, learner, clock, monkeypatch
):
    other = store.ensure_learner(ISSUER, "Practitioner/456")
    mine = [poc_attempt(store, learner, clock) for _ in range(2)]
    theirs = poc_attempt(store, other, clock)
    for number, (who, attempt) in enumerate(
        [(learner, mine[0]), (other, theirs), (learner, mine[1])]
    ):
        assert claim_poc_credit(store, POLICY, who, attempt, f"k{number}", clock()).records
    monkeypatch.setattr("app.ledger.store.LEARNERS_PER_READ", 1)  # one statement per learner
    found = store.credits_of([other, learner, "nobody", learner])
    assert found["nobody"] == []
    assert found[learner] == store.credits_for(learner) and len(found[learner]) == 2
    assert found[other] == store.credits_for(other) and len(found[other]) == 1

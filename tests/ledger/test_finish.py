"""Finishing an attempt: its score (or a cycle's last step) and its credit in one transaction."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from app.ledger.chain import timestamp
from app.ledger.credit import finish_case, finish_poc_cycle
from app.ledger.models import Answer, PatientDataRefused, UnknownRecord
from app.ledger.rules import CreditPolicy
from tests.ledger.helpers import T0, module

POLICY = CreditPolicy()


def open_case_attempt(store, learner, case) -> str:
    """Start a case attempt that is not completed yet; return its id."""
    attempt_id = str(uuid.uuid4())
    store.record_attempt(learner, ("case", case["id"], case["version"]), attempt_id, T0)
    return attempt_id


def open_cycle(store, learner, clock) -> str:
    """Start a point-of-care cycle with its question and source recorded; return its id."""
    attempt_id = str(uuid.uuid4())
    store.record_attempt(learner, ("poc", "sepsis", "1.0.0"), attempt_id, clock())
    for step in ("question", "sources"):
        store.record_answer(Answer(attempt_id, step, {"note": f"{step} recorded"}, clock()))
    return attempt_id


def chain(store) -> list:
    """Every credit record, in chain order."""
    return list(store.iter_chain())


def test_finishing_a_case_completes_it_and_records_its_credit_in_one_transaction(
    store, learner, clock
):
    case = module()
    attempt_id = open_case_attempt(store, learner, case)
    before = store._writer.batches
    submission = finish_case(store, POLICY, case, attempt_id, 4, 4, "k1")
    assert store._writer.batches == before + 1
    assert submission.created
    attempt = store.attempt(attempt_id)
    assert (attempt.correct, attempt.total, attempt.pass_mark_percent) == (4, 4, 75)
    assert [(r.credit_type, r.amount, r.earned_at) for r in submission.records] == [
        ("ama-pra-category-1", Decimal("0.25"), timestamp(attempt.completed_at)),
        ("aafp-prescribed", Decimal("0.25"), timestamp(attempt.completed_at)),
    ]
    assert chain(store) == list(submission.records)


def test_finishing_again_replays_the_first_outcome_and_writes_no_record(store, learner, clock):
    case = module()
    attempt_id = open_case_attempt(store, learner, case)
    first = finish_case(store, POLICY, case, attempt_id, 4, 4, "k1")
    clock.advance(minutes=5)
    again = finish_case(store, POLICY, case, attempt_id, 4, 4, "k1")
    assert not again.created
    assert again.records == first.records
    assert chain(store) == list(first.records)
    assert store.attempt(attempt_id).completed_at == T0


def test_a_finish_whose_claim_fails_leaves_the_attempt_unfinished(store, learner):
    case = module()
    attempt_id = open_case_attempt(store, learner, case)
    with pytest.raises(UnknownRecord):
        finish_case(store, POLICY, module("another-module"), attempt_id, 4, 4, "k1")
    assert store.attempt(attempt_id).completed_at is None
    assert store.submission("k1") is None


def test_a_failed_case_is_refused_and_the_refusal_can_be_read_back(store, learner):
    case = module()
    attempt_id = open_case_attempt(store, learner, case)
    assert store.submission("k1") is None
    refused = finish_case(store, POLICY, case, attempt_id, 1, 4, "k1")
    assert refused.created and refused.refusal.reason == "below-pass-mark"
    assert store.submission("k1").refusal == refused.refusal
    assert chain(store) == []


def test_reading_a_finished_claim_back_writes_nothing(store, learner):
    case = module()
    attempt_id = open_case_attempt(store, learner, case)
    recorded = finish_case(store, POLICY, case, attempt_id, 4, 4, "k1")
    before = store._writer.batches
    for _ in range(3):
        assert store.submission("k1").records == recorded.records
    assert store._writer.batches == before
    assert chain(store) == list(recorded.records)


def test_a_second_attempt_at_the_same_case_is_refused_as_a_duplicate(store, learner):
    case = module()
    finish_case(store, POLICY, case, open_case_attempt(store, learner, case), 4, 4, "k1")
    second = finish_case(store, POLICY, case, open_case_attempt(store, learner, case), 4, 4, "k2")
    assert second.refusal.reason == "duplicate"
    assert len(chain(store)) == 2


def test_finishing_a_cycle_records_its_application_and_credit_in_one_transaction(
    store, learner, clock
):
    attempt_id = open_cycle(store, learner, clock)
    application = Answer(attempt_id, "application", {"impact": "none"}, clock.advance(hours=2))
    before = store._writer.batches
    submission = finish_poc_cycle(store, POLICY, application, "k1")
    assert store._writer.batches == before + 1
    [record] = submission.records
    assert (record.activity_type, record.amount) == ("poc", Decimal("0.50"))
    assert "application" in {step.item_id for step in store.answers(attempt_id)}
    again = finish_poc_cycle(store, POLICY, application, "k1")
    assert not again.created and again.records == submission.records


def test_a_cycle_application_with_patient_data_records_nothing(store, learner, clock):
    attempt_id = open_cycle(store, learner, clock)
    application = Answer(attempt_id, "application", {"notes": "MRN 12345678"}, clock())
    with pytest.raises(PatientDataRefused):
        finish_poc_cycle(store, POLICY, application, "k1")
    assert "application" not in {step.item_id for step in store.answers(attempt_id)}
    assert store.submission("k1") is None and chain(store) == []

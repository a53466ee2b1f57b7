"""Production credits only modules a named clinician reviewer approved; demo credits its drafts."""

from __future__ import annotations

import uuid

import pytest

from app.db import close_stores
from app.ledger.credit import finish_case, finish_poc_cycle
from app.ledger.models import Answer
from app.ledger.rules import CreditPolicy, PocCycle, Refusal, case_credit, poc_cycle_credit
from app.ledger.wiring import ledger_for
from tests.ledger.helpers import T0, module
from tests.smart.conftest import build_demo_app

PRODUCTION = CreditPolicy(approved_modules_only=True)
DEMO = CreditPolicy()


def with_status(status: str | None) -> dict:
    """The credit test module with an editorial status (None: no editorial record at all)."""
    case = module()
    if status is not None:
        case["editorial"] = {"status": status}
    return case


@pytest.mark.parametrize("status", [None, "draft", "in-review", "retired"])
def test_production_refuses_credit_for_a_module_not_approved(status):
    refusal = case_credit(with_status(status), 4, 4, [], PRODUCTION, T0)
    assert isinstance(refusal, Refusal)
    assert refusal.reason == "module-not-approved"
    assert f"is {status or 'draft'}, not approved by a named clinician reviewer" in refusal.message
    assert "you can still learn from it" in refusal.message


def test_production_credits_an_approved_module():
    awards = case_credit(with_status("approved"), 4, 4, [], PRODUCTION, T0)
    assert [award.credit_type for award in awards] == ["ama-pra-category-1", "aafp-prescribed"]


def test_demo_keeps_crediting_draft_modules():
    awards = case_credit(with_status("draft"), 4, 4, [], DEMO, T0)
    assert [award.credit_type for award in awards] == ["ama-pra-category-1", "aafp-prescribed"]


def test_in_production_the_case_is_still_completed_and_scored_but_earns_nothing(store, learner):
    case = with_status("draft")
    attempt_id = str(uuid.uuid4())
    store.record_attempt(learner, ("case", case["id"], case["version"]), attempt_id, T0)
    submission = finish_case(store, PRODUCTION, case, attempt_id, 4, 4, "k1")
    assert submission.refusal is not None
    assert submission.refusal.reason == "module-not-approved"
    assert submission.records == ()
    assert list(store.iter_chain()) == []
    attempt = store.attempt(attempt_id)
    assert (attempt.correct, attempt.total) == (4, 4)  # the learning is recorded


def complete_cycle(source_approved: bool) -> PocCycle:
    """A point-of-care cycle with every step recorded at T0."""
    return PocCycle("poc:sepsis-hour-1-bundle@1.0.0", T0, "cycle-1", T0, T0, T0, source_approved)


def test_production_credits_a_cycle_only_when_the_module_it_consulted_is_approved():
    refusal = poc_cycle_credit(complete_cycle(False), [], PRODUCTION, T0)
    assert isinstance(refusal, Refusal) and refusal.reason == "module-not-approved"
    assert "you can still learn from it" in refusal.message
    [award] = poc_cycle_credit(complete_cycle(True), [], PRODUCTION, T0)
    assert award.amount == PRODUCTION.poc_credit[0][1]


def test_demo_credits_a_cycle_that_consulted_a_draft():
    assert poc_cycle_credit(complete_cycle(False), [], DEMO, T0)


def test_an_unapproved_cycle_records_its_application_but_no_credit(store, learner, clock):
    attempt_id = str(uuid.uuid4())
    store.record_attempt(learner, ("poc", "sepsis", "1.0.0"), attempt_id, clock())
    for step in ("question", "sources"):
        store.record_answer(Answer(attempt_id, step, {"note": step}, clock()))
    application = Answer(attempt_id, "application", {"note": "applied"}, clock())
    submission = finish_poc_cycle(store, PRODUCTION, application, "k1")  # not said: not approved
    assert submission.refusal is not None
    assert submission.refusal.reason == "module-not-approved"
    assert list(store.iter_chain()) == []
    assert "application" in {answer.item_id for answer in store.answers(attempt_id)}


def test_the_production_app_credits_approved_modules_only(app):
    assert ledger_for(app).policy.approved_modules_only is True


def test_the_demo_app_credits_its_drafts(instance_path, monkeypatch):
    demo = build_demo_app(instance_path, monkeypatch)
    try:
        assert ledger_for(demo).policy.approved_modules_only is False
    finally:
        close_stores(demo)

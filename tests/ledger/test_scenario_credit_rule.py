"""The credit rule of a scenario walk: the case's rules, and in production a reviewed scenario."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from app.ledger.rules import CreditAward, CreditPolicy, Refusal, scenario_credit

WHEN = datetime(2026, 3, 1, tzinfo=UTC)
PRODUCTION = CreditPolicy(approved_modules_only=True)
DEMO = CreditPolicy()


def module(status: str = "approved", review: str = "draft") -> dict:
    """A module version with an editorial status and a scenario with a review status."""
    return {
        "id": "hf",
        "version": "1.2.0",
        "pass_mark_percent": 75,
        "credit": [{"type": "ama-pra-category-1", "amount": 0.25}],
        "editorial": {"status": status},
        "scenario": {"review": {"status": review}},
    }


def test_production_refuses_a_walk_of_an_unreviewed_scenario_of_an_approved_version():
    refusal = scenario_credit(module(), 4, 4, [], PRODUCTION, WHEN)
    assert isinstance(refusal, Refusal) and refusal.reason == "scenario-not-reviewed"
    assert "hf 1.2.0" in refusal.message


def test_production_credits_a_walk_once_the_scenario_is_reviewed():
    awards = scenario_credit(module(review="reviewed"), 4, 4, [], PRODUCTION, WHEN)
    assert awards == [CreditAward("ama-pra-category-1", Decimal("0.25"), Decimal("0.25"))]


def test_an_unapproved_version_is_refused_for_that_reason_first():
    refusal = scenario_credit(module(status="draft"), 4, 4, [], PRODUCTION, WHEN)
    assert isinstance(refusal, Refusal) and refusal.reason == "module-not-approved"


def test_the_demo_policy_credits_a_draft_scenario_as_before():
    awards = scenario_credit(module(status="draft"), 4, 4, [], DEMO, WHEN)
    assert [award.credit_type for award in awards] == ["ama-pra-category-1"]


def test_a_reviewed_scenario_still_needs_the_pass_mark():
    refusal = scenario_credit(module(review="reviewed"), 2, 4, [], PRODUCTION, WHEN)
    assert isinstance(refusal, Refusal) and refusal.reason == "below-pass-mark"

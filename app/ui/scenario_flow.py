"""A scenario attempt read from and written to the ledger: decisions made, the path, its credit.

A scenario is another way through a module's assessed activity, so an attempt is an attempt at the
module's case (same ledger activity, same credit rules: the pass mark, once per module version,
the annual cap; in production the scenario must also be reviewed, `scenario_credit`). Each decision
is an answer whose item is `scenario:<step id>`, folded into mastery and reviews as it is recorded,
like a case answer; the score is the number of guideline choices out of the decisions made, and
credit is claimed in the transaction that completes the attempt, with its own idempotency key.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort

from app.ledger.credit import case_claim
from app.ledger.models import Answer, Attempt, IdempotencyConflict, Submission
from app.ledger.rules import CreditPolicy, passed, scenario_credit
from app.ledger.store import Claim
from app.ledger.wiring import Ledger
from app.library.scenarios import Walk, choice_by_id, walk
from app.ui import case_flow

ITEM_PREFIX = "scenario:"


def scenario_of(module: dict) -> dict:
    """The module's scenario, or 404 when it has none."""
    scenario = module.get("scenario")
    if not isinstance(scenario, dict):
        abort(404)
    return scenario


def start_attempt(ledger: Ledger, learner: str, module: dict) -> Attempt:
    """Record a new attempt at the module's assessed activity (the case's ledger activity)."""
    return case_flow.start_attempt(ledger, learner, module)


class ScenarioModuleUpdated(case_flow.ModuleUpdated):
    """The learner's scenario walk began on another version of the module than the library's."""


def learners_scenario_attempt(
    ledger: Ledger, learner: str, module: dict, attempt_id: str
) -> Attempt:
    """The learner's attempt at this module version that holds no case answers, or 404.

    ScenarioModuleUpdated when it is the learner's walk at another version of the module.
    """
    try:
        attempt = case_flow.learners_attempt(ledger, learner, module, attempt_id)
    except case_flow.ModuleUpdated as updated:
        raise ScenarioModuleUpdated(updated.module, updated.attempt) from None
    answers = ledger.store.answers(attempt.attempt_id)
    if any(not answer.item_id.startswith(ITEM_PREFIX) for answer in answers):
        abort(404)  # a question-by-question case attempt, not a scenario
    return attempt


def path(ledger: Ledger, module: dict, attempt: Attempt) -> Walk:
    """Replay the attempt's recorded decisions from the scenario's start."""
    chosen = {
        answer.item_id.removeprefix(ITEM_PREFIX): str(answer.response.get("choice"))
        for answer in ledger.store.answers(attempt.attempt_id)
        if answer.item_id.startswith(ITEM_PREFIX)
    }
    return walk(scenario_of(module), chosen)


def shuffled_choices(step: dict, attempt: Attempt) -> list[dict]:
    """A step's choices in this attempt's order, shuffled as the case player shuffles options."""
    return case_flow.in_attempt_order(step["choices"], attempt.attempt_id, ITEM_PREFIX + step["id"])


def record_decision(ledger: Ledger, attempt: Attempt, step: dict, choice_id: str) -> Answer | None:
    """Record the decision at a step once; None when one was already recorded there."""
    choice = choice_by_id(step, choice_id)
    if choice is None:
        raise ValueError(f"No choice {choice_id!r} at step {step['id']!r}.")
    answer = Answer(
        attempt_id=attempt.attempt_id,
        item_id=ITEM_PREFIX + step["id"],
        response={"choice": choice_id},
        answered_at=datetime.now(UTC),
        correct=bool(choice.get("guideline")),
    )
    try:
        return answer if ledger.store.record_answer(answer) else None
    except IdempotencyConflict:  # a second tab decided differently first: the first counts
        return None


def finish(ledger: Ledger, module: dict, attempt: Attempt, done: Walk) -> Submission:
    """Complete the attempt with its score and claim its credit in one transaction, once."""
    score = (done.guideline_choices, len(done.decisions), int(module["pass_mark_percent"]))
    return ledger.store.complete_and_submit(
        attempt.attempt_id,
        score,
        lambda completed: walk_claim(module, completed, ledger.policy),
        credit_key(attempt),
    )


def walk_claim(module: dict, attempt: Attempt, policy: CreditPolicy) -> Claim:
    """The module's case claim for a completed walk, decided by the scenario's credit rule."""
    request, _ = case_claim(module, attempt, policy)
    correct, total = attempt.correct or 0, attempt.total or 0
    return request, lambda held: scenario_credit(
        module, correct, total, held, policy, request.earned_at
    )


def credit_outcome(ledger: Ledger, attempt: Attempt) -> Submission | None:
    """What finishing the attempt recorded or refused (None before it finished); reads only."""
    return ledger.store.submission(credit_key(attempt))


def credit_key(attempt: Attempt) -> str:
    """The idempotency key of a scenario attempt's credit claim (one claim per attempt)."""
    return f"bedside-ui:scenario-credit:{attempt.attempt_id}"


def has_passed(module: dict, done: Walk) -> bool:
    """Tell whether the guideline choices reach the module's pass mark."""
    return passed(done.guideline_choices, len(done.decisions), int(module["pass_mark_percent"]))

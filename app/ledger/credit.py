"""Claiming credit: the request is built from the attempt, the pure rules decide in the transaction.

Finishing an attempt (its score, or a cycle's last step) and claiming its credit is one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.ledger.chain import timestamp
from app.ledger.models import (
    Answer,
    Attempt,
    AttemptNotFinished,
    ClaimRequest,
    Decide,
    Decision,
    Submission,
    UnknownRecord,
)
from app.ledger.rules import (
    ClubParticipation,
    CreditPolicy,
    HeldCredit,
    PocCycle,
    Refusal,
    activity_key,
    case_credit,
    cycle_completed_at,
    journal_club_credit,
    journal_club_key,
    poc_cycle_credit,
    question_fingerprint,
)
from app.ledger.store import LedgerStore


def finish_case(
    store: LedgerStore,
    policy: CreditPolicy,
    module: Mapping,
    attempt_id: str,
    correct: int,
    total: int,
    idempotency_key: str,
) -> Submission:
    """Complete a case attempt with its score and claim its credit in one transaction, once."""
    score = (correct, total, int(module["pass_mark_percent"]))
    return store.complete_and_submit(
        attempt_id, score, lambda attempt: case_claim(module, attempt, policy), idempotency_key
    )


def claim_case_credit(
    store: LedgerStore,
    policy: CreditPolicy,
    module: Mapping,
    learner_id: str,
    attempt_id: str,
    idempotency_key: str,
) -> Submission:
    """Claim the credit of a learner's completed case, exactly once per idempotency key."""
    request, decide = case_claim(module, learners_attempt(store, learner_id, attempt_id), policy)
    return store.submit(request, idempotency_key, decide)


def case_claim(
    module: Mapping, attempt: Attempt, policy: CreditPolicy
) -> tuple[ClaimRequest, Decide]:
    """The credit request of a completed case attempt and the rule that decides it."""
    key = activity_key("case", module["id"], str(module["version"]))
    if attempt.activity_key != key:
        raise UnknownRecord(f"Attempt {attempt.attempt_id} is not an attempt at {key}.")
    if attempt.completed_at is None:
        raise AttemptNotFinished(f"Attempt {attempt.attempt_id} is not completed yet.")
    correct, total, completed_at = attempt.correct or 0, attempt.total or 0, attempt.completed_at
    request = ClaimRequest(
        learner_id=attempt.learner_id,
        activity_type="case",
        activity_key=key,
        earned_at=completed_at,
        module_id=module["id"],
        module_version=str(module["version"]),
        attempt_id=attempt.attempt_id,
        evidence={
            "correct": correct,
            "total": total,
            "pass_mark_percent": int(module["pass_mark_percent"]),
        },
    )
    return request, lambda held: case_credit(module, correct, total, held, policy, completed_at)


def finish_poc_cycle(
    store: LedgerStore,
    policy: CreditPolicy,
    application: Answer,
    idempotency_key: str,
    *,
    source_approved: bool = False,
) -> Submission:
    """Record a cycle's application and claim the cycle's credit in one transaction, once.

    `source_approved`: the module the cycle consulted is approved (production credits no other).
    """
    asked = credited_questions(store, application.attempt_id)
    return store.answer_and_submit(
        application,
        lambda attempt, steps: poc_claim(
            attempt, steps, policy, application.answered_at, asked, source_approved
        ),
        idempotency_key,
    )


def claim_poc_credit(
    store: LedgerStore,
    policy: CreditPolicy,
    learner_id: str,
    attempt_id: str,
    idempotency_key: str,
    now: datetime,
    *,
    source_approved: bool = False,
) -> Submission:
    """Claim a point-of-care cycle's credit; an unfinished cycle is refused, keeping the key."""
    attempt = learners_attempt(store, learner_id, attempt_id)
    asked = credited_questions(store, attempt_id)
    claim = poc_claim(attempt, store.answers(attempt_id), policy, now, asked, source_approved)
    if isinstance(claim, Refusal):
        return Submission(created=False, refusal=claim)
    request, decide = claim
    return store.submit(request, idempotency_key, decide)


def unfinished_poc_cycle(
    store: LedgerStore, policy: CreditPolicy, learner_id: str, attempt_id: str, now: datetime
) -> Refusal | None:
    """Why a cycle with a step missing earns nothing yet (None once every step is recorded)."""
    attempt = learners_attempt(store, learner_id, attempt_id)
    cycle = poc_cycle(attempt, store.answers(attempt_id))
    if all(at is not None for at in cycle.step_times().values()):
        return None
    return unfinished_cycle(cycle, policy, now)


def poc_claim(
    attempt: Attempt,
    steps: list[Answer],
    policy: CreditPolicy,
    now: datetime,
    asked: AskedQuestions | None = None,
    source_approved: bool = False,
) -> tuple[ClaimRequest, Decide] | Refusal:
    """The credit request of a finished cycle and the rule that decides it, or why it has none.

    `asked`: the questions of the learner's credited cycles; the rule, deciding under the chain
    lock, refuses the cycle when a credit held then comes from a cycle that asked its question.
    """
    cycle = poc_cycle(attempt, steps, source_approved)
    if any(at is None for at in cycle.step_times().values()):
        return unfinished_cycle(cycle, policy, now)
    completed_at = cycle_completed_at(cycle)
    module_id, _, version = attempt.activity_key.partition(":")[2].partition("@")
    times = {f"{name}_at": timestamp(at) for name, at in cycle.step_times().items() if at}
    request = ClaimRequest(
        learner_id=attempt.learner_id,
        activity_type="poc",
        activity_key=attempt.activity_key,
        earned_at=completed_at,
        module_id=module_id,
        module_version=version,
        attempt_id=attempt.attempt_id,
        evidence={"started_at": timestamp(cycle.started_at), **times},
    )
    question = cycle_question(steps)

    def decide(held: list[HeldCredit]) -> Decision:
        """Grant the cycle's credit unless a cycle holding credit now asked the same question."""
        repeats = asked.repeated_by(attempt.attempt_id, question, held) if asked else frozenset()
        return poc_cycle_credit(cycle, held, policy, completed_at, repeats)

    return request, decide


def claim_journal_club_credit(
    store: LedgerStore,
    policy: CreditPolicy,
    learner_id: str,
    participation: ClubParticipation,
    module_id: str | None = None,
) -> Submission:
    """Claim a member's journal-club credit, exactly once per member and club.

    Claimed only once a reflection was posted in the window, so the evidence (the club's window
    and its first reflection in it) never changes between retries of the same key.
    """
    in_window = sorted(
        at
        for at in participation.reflections_at
        if participation.opens_at <= at <= participation.closes_at
    )
    if not in_window:
        return Submission(created=False, refusal=journal_club_credit(participation, [], policy))
    request = ClaimRequest(
        learner_id=learner_id,
        activity_type="journal-club",
        activity_key=journal_club_key(participation.club_id),
        earned_at=in_window[0],
        module_id=module_id,
        evidence={
            "club_id": participation.club_id,
            "opens_at": timestamp(participation.opens_at),
            "closes_at": timestamp(participation.closes_at),
            "first_reflection_at": timestamp(in_window[0]),
        },
    )
    decide = lambda held: journal_club_credit(participation, held, policy)  # noqa: E731
    return store.submit(
        request, journal_club_idempotency_key(participation.club_id, learner_id), decide
    )


def journal_club_idempotency_key(club_id: str, learner_id: str) -> str:
    """The one idempotency key of a member's credit for a club."""
    return f"journal-club:{club_id}:{learner_id}"


@dataclass(frozen=True)
class AskedQuestions:
    """The questions of a learner's credited cycles (fingerprints by attempt id), read early.

    Read before the chain lock; a cycle credited since (asked in a tab that finished first) is
    read when the rule decides under the lock, so the decision covers every credit held then.
    """

    store: LedgerStore
    fingerprints: Mapping[str, str]

    def repeated_by(
        self, attempt_id: str, question: str, held: Sequence[HeldCredit]
    ) -> frozenset[str]:
        """The other point-of-care cycles behind these held credits that asked this question."""
        if not question:
            return frozenset()
        cycles = {c.attempt_id for c in held if c.activity_key.startswith("poc:")}
        cycles -= {None, attempt_id}
        return frozenset(cycle for cycle in cycles if self.fingerprint(cycle) == question)

    def fingerprint(self, attempt_id: str) -> str:
        """A cycle's question as a fingerprint: known already, or read now."""
        known = self.fingerprints.get(attempt_id)
        return known if known is not None else cycle_question(self.store.answers(attempt_id))


def credited_questions(store: LedgerStore, attempt_id: str) -> AskedQuestions | None:
    """The questions of the learner's cycles that have credit records (None: no such attempt)."""
    attempt = store.attempt(attempt_id)
    if attempt is None:
        return None
    credited = {
        record.attempt_id
        for record in store.credits_for(attempt.learner_id)
        if record.activity_key.startswith("poc:") and record.attempt_id not in (None, attempt_id)
    }
    fingerprints = {cycle: cycle_question(store.answers(cycle)) for cycle in credited if cycle}
    return AskedQuestions(store, fingerprints)


def same_question_cycles(store: LedgerStore, attempt_id: str) -> frozenset[str]:
    """The learner's other credited cycles that asked the same clinical question as this one."""
    asked = credited_questions(store, attempt_id)
    if asked is None:
        return frozenset()
    question = cycle_question(store.answers(attempt_id))
    if not question:
        return frozenset()
    return frozenset(cycle for cycle, found in asked.fingerprints.items() if found == question)


def cycle_question(steps: list[Answer]) -> str:
    """A cycle's question as a fingerprint (empty when it has none)."""
    for step in steps:
        if step.item_id == "question" and isinstance(step.response, Mapping):
            return question_fingerprint(str(step.response.get("text", "")))
    return ""


def replayed_credit(submission: Submission) -> bool:
    """Tell whether a submission repeated an earlier one that recorded credit (nothing new)."""
    return bool(submission.records) and not submission.created


def unfinished_cycle(cycle: PocCycle, policy: CreditPolicy, now: datetime) -> Refusal:
    """Say why an incomplete cycle earns nothing yet (incomplete, or expired)."""
    decision = poc_cycle_credit(cycle, [], policy, now)
    if isinstance(decision, Refusal):
        return decision
    raise ValueError("An incomplete cycle cannot earn credit.")


def poc_cycle(attempt: Attempt, answers: list[Answer], source_approved: bool = False) -> PocCycle:
    """Build a point-of-care cycle from an attempt and its recorded steps."""
    if not attempt.activity_key.startswith("poc:"):
        raise UnknownRecord(f"Attempt {attempt.attempt_id} is not a point-of-care cycle.")
    steps = {answer.item_id: answer.answered_at for answer in answers}
    return PocCycle(
        activity_key=attempt.activity_key,
        started_at=attempt.started_at,
        attempt_id=attempt.attempt_id,
        question_at=steps.get("question"),
        sources_at=steps.get("sources"),
        application_at=steps.get("application"),
        source_approved=source_approved,
    )


def learners_attempt(store: LedgerStore, learner_id: str, attempt_id: str) -> Attempt:
    """Return the attempt, or raise when it does not exist or belongs to someone else."""
    attempt = store.attempt(attempt_id)
    if attempt is None or attempt.learner_id != learner_id:
        raise UnknownRecord(f"This learner has no attempt {attempt_id}.")
    return attempt

"""A case attempt's progress, read from the ledger: answers given, score, what comes next."""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import abort

from app.ledger.credit import finish_case
from app.ledger.models import Answer, Attempt, Submission
from app.ledger.rules import activity_key, passed
from app.ledger.wiring import Ledger


@dataclass(frozen=True)
class Progress:
    """Which of a case's questions are answered, and how many correctly."""

    questions: tuple[dict, ...]
    answers: dict[str, Answer]

    @property
    def total(self) -> int:
        """How many questions the case has."""
        return len(self.questions)

    @property
    def correct(self) -> int:
        """How many of the case's questions were answered correctly."""
        return sum(1 for question in self.questions if self.answered_correctly(question))

    def answered_correctly(self, question: dict) -> bool:
        """Tell whether this question's recorded answer is correct."""
        answer = self.answers.get(question["id"])
        return answer is not None and answer.correct

    @property
    def finished(self) -> bool:
        """Tell whether every question is answered."""
        return all(question["id"] in self.answers for question in self.questions)

    def next_number(self) -> int | None:
        """The 1-based number of the first unanswered question (None when all are answered)."""
        for number, question in enumerate(self.questions, start=1):
            if question["id"] not in self.answers:
                return number
        return None


class ModuleUpdated(Exception):
    """The learner's attempt began on another version of the module than the library now holds."""

    def __init__(self, module: dict, attempt: Attempt):
        super().__init__(f"Attempt {attempt.attempt_id} is at another version of {module['id']}.")
        self.module = module
        self.attempt = attempt

    @property
    def started_on(self) -> str:
        """The module version the attempt began on."""
        return self.attempt.activity_key.rpartition("@")[2]


def case_activity(module: dict) -> tuple[str, str, str]:
    """The ledger activity of a module's case: ("case", id, version)."""
    return ("case", module["id"], str(module["version"]))


def start_attempt(ledger: Ledger, learner: str, module: dict) -> Attempt:
    """Record a new attempt at the module's case."""
    attempt_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    return ledger.store.record_attempt(learner, case_activity(module), attempt_id, now)


def learners_attempt(ledger: Ledger, learner: str, module: dict, attempt_id: str) -> Attempt:
    """The learner's attempt at this module's current version (a case's or a scenario's), or 404.

    ModuleUpdated when it is the learner's attempt at another version of this module.
    """
    try:
        attempt = ledger.store.attempt(str(uuid.UUID(attempt_id)))
    except ValueError:
        attempt = None
    if attempt is None or attempt.learner_id != learner:
        abort(404)
    if attempt.activity_key == activity_key(*case_activity(module)):
        return attempt
    if attempt.activity_key.startswith(activity_key("case", module["id"], "")):
        raise ModuleUpdated(module, attempt)
    abort(404)


def learners_case_attempt(ledger: Ledger, learner: str, module: dict, attempt_id: str) -> Attempt:
    """The learner's attempt at this module version that holds only the case's answers, or 404."""
    attempt = learners_attempt(ledger, learner, module, attempt_id)
    question_ids = {question["id"] for question in module["case"]["questions"]}
    answers = ledger.store.answers(attempt.attempt_id)
    if any(answer.item_id not in question_ids for answer in answers):
        abort(404)  # a scenario's decisions, not a question-by-question case attempt
    return attempt


def progress(ledger: Ledger, module: dict, attempt: Attempt) -> Progress:
    """Read an attempt's answers."""
    answers = {a.item_id: a for a in ledger.store.answers(attempt.attempt_id)}
    return Progress(tuple(module["case"]["questions"]), answers)


def question_number(module: dict, number: int) -> dict:
    """The case's question with this 1-based number, or 404."""
    questions = module["case"]["questions"]
    if not 1 <= number <= len(questions):
        abort(404)
    return questions[number - 1]


def option_ids(question: dict) -> list[str]:
    """The ids of a question's options, in order."""
    return [option["id"] for option in question["options"]]


def shuffled_options(question: dict, attempt_id: str) -> list[dict]:
    """A question's options in this attempt's order (see `in_attempt_order`)."""
    return in_attempt_order(question["options"], attempt_id, question["id"])


def in_attempt_order(choices: list[dict], attempt_id: str, item_id: str) -> list[dict]:
    """An item's choices in this attempt's order: a permutation seeded by attempt and item.

    The same attempt always shows the same order (reloads, feedback); another attempt another one.
    Answers are stored by choice id, so the order never changes what counts as correct.
    """
    seed = hashlib.sha256(f"{attempt_id}:{item_id}".encode()).digest()
    ordered = list(choices)
    random.Random(seed).shuffle(ordered)
    return ordered


def record_choice(
    ledger: Ledger, attempt: Attempt, question: dict, option: str, confidence: str | None = None
) -> Answer:
    """Record the learner's first answer (and stated confidence); a repeat changes nothing."""
    response = (
        {"option": option} if confidence is None else {"option": option, "confidence": confidence}
    )
    answer = Answer(
        attempt_id=attempt.attempt_id,
        item_id=question["id"],
        response=response,
        answered_at=datetime.now(UTC),
        correct=option == question["answer"],
    )
    ledger.store.record_answer(answer)
    return answer


def finish(ledger: Ledger, module: dict, attempt: Attempt, done: Progress) -> Submission:
    """Complete the attempt with its score and claim its credit in one transaction, once."""
    return finish_case(
        ledger.store,
        ledger.policy,
        module,
        attempt.attempt_id,
        done.correct,
        done.total,
        idempotency_key=credit_key(attempt),
    )


def credit_outcome(ledger: Ledger, attempt: Attempt) -> Submission | None:
    """What finishing the attempt recorded or refused (None before it finished); reads only."""
    return ledger.store.submission(credit_key(attempt))


def credit_key(attempt: Attempt) -> str:
    """The idempotency key of an attempt's credit claim (one claim per attempt)."""
    return f"bedside-ui:case-credit:{attempt.attempt_id}"


def has_passed(module: dict, done: Progress) -> bool:
    """Tell whether the answers reach the module's pass mark."""
    return passed(done.correct, done.total, int(module["pass_mark_percent"]))

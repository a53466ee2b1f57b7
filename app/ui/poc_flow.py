"""Point-of-care cycles: question → sources → application, recorded as the ledger expects.

The question is held in the signed browser session until a source is read: the ledger names a
cycle by the module it consulted (`poc:<module>@<version>`), so the attempt is recorded then, with
the question's own time as its start. The browser session also lists the learner's open cycles so
the application can be recorded later the same day from the start page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import abort, current_app, session

from app.ledger.chain import parse_timestamp, timestamp
from app.ledger.credit import finish_poc_cycle, same_question_cycles, unfinished_poc_cycle
from app.ledger.models import Answer, Submission
from app.ledger.rules import (
    CreditAward,
    HeldCredit,
    Refusal,
    poc_credit_outlook,
    same_question_refusal,
    unapproved_module,
)
from app.library import editorial
from app.ui.page_context import ledger, runtime

SESSION_KEY = "bedside_poc"
MAX_OPEN = 20
COOKIE_BUDGET = 3000  # bytes of signed session cookie; browsers drop cookies over 4096


@dataclass(frozen=True)
class Cycle:
    """One of the learner's point-of-care cycles, as far as it has got."""

    attempt_id: str
    question: str
    reason: str
    asked_at: datetime
    module_id: str | None = None
    applied: bool = False

    @property
    def deadline(self) -> datetime:
        """When the application must be recorded by."""
        return self.asked_at + ledger().policy.poc_application_window

    @property
    def expired(self) -> bool:
        """Tell whether the cycle ran out of time before it was finished."""
        return not self.applied and datetime.now(UTC) > self.deadline


def entries() -> dict[str, dict]:
    """The cycles this browser started (attempt id → what is not in the ledger yet)."""
    stored = session.get(SESSION_KEY)
    return stored if isinstance(stored, dict) else {}


def save(cycles: dict[str, dict]) -> None:
    """Write the cycle list back to the (permanent) browser session, within the cookie budget."""
    cycles = dict(list(cycles.items())[-MAX_OPEN:])
    while cycles and cookie_size({**session, SESSION_KEY: cycles}) > COOKIE_BUDGET:
        cycles.pop(least_needed(cycles))
    session[SESSION_KEY] = cycles
    session.permanent = True
    session.modified = True


def least_needed(cycles: dict[str, dict]) -> str:
    """The cycle to forget first: an older unread question, else the oldest entry."""
    newest = next(reversed(cycles))
    pending = [key for key, entry in cycles.items() if "q" in entry and key != newest]
    return pending[0] if pending else next(iter(cycles))


def cookie_size(values: dict) -> int:
    """How many bytes the signed session cookie would take (0 for server-side sessions)."""
    interface = current_app.session_interface
    serializer = getattr(interface, "get_signing_serializer", lambda app: None)(current_app)
    return len(serializer.dumps(values)) if serializer is not None else 0


def start_cycle(learner: str, question: str, reason: str) -> str:
    """Remember a new cycle's question; return its attempt id."""
    attempt_id = str(uuid.uuid4())
    cycles = {key: value for key, value in entries().items() if not stale(value)}
    cycles[attempt_id] = {
        "l": learner,
        "q": question,
        "r": reason,
        "at": timestamp(datetime.now(UTC)),
    }
    save(cycles)
    return attempt_id


def stale(entry: dict) -> bool:
    """Tell whether a remembered cycle is past any possible deadline."""
    asked = parse_timestamp(entry.get("at", timestamp(datetime.now(UTC))))
    return datetime.now(UTC) > asked + ledger().policy.poc_application_window


def cycle(learner: str, attempt_id: str) -> Cycle:
    """The learner's cycle with this id (recorded in the ledger or still pending), or 404."""
    try:
        attempt_id = str(uuid.UUID(attempt_id))
    except ValueError:
        abort(404)
    attempt = ledger().store.attempt(attempt_id)
    if attempt is not None:
        if attempt.learner_id != learner or not attempt.activity_key.startswith("poc:"):
            abort(404)
        return recorded_cycle(attempt)
    entry = entries().get(attempt_id)
    if entry is None or entry.get("l") != learner or "q" not in entry:
        abort(404)
    return Cycle(attempt_id, entry["q"], entry["r"], parse_timestamp(entry["at"]))


def recorded_cycle(attempt) -> Cycle:
    """Rebuild a cycle from its ledger attempt and steps."""
    steps = {answer.item_id: answer for answer in ledger().store.answers(attempt.attempt_id)}
    question = steps["question"].response if "question" in steps else {}
    module_id = attempt.activity_key.partition(":")[2].rpartition("@")[0]
    return Cycle(
        attempt.attempt_id,
        str(question.get("text", "")),
        str(question.get("reason", "")),
        attempt.started_at,
        module_id,
        applied="application" in steps,
    )


def record_sources(learner: str, current: Cycle, module: dict) -> None:
    """Record the cycle in the ledger: the attempt, its question (as asked) and the source."""
    store = ledger().store
    activity = ("poc", module["id"], str(module["version"]))
    store.record_attempt(learner, activity, current.attempt_id, current.asked_at)
    asked = {"text": current.question, "reason": current.reason}
    store.record_answer(Answer(current.attempt_id, "question", asked, current.asked_at))
    if not any(step.item_id == "sources" for step in store.answers(current.attempt_id)):
        consulted = {"modules": [module["id"]], "version": str(module["version"])}
        store.record_answer(Answer(current.attempt_id, "sources", consulted, datetime.now(UTC)))
    cycles = entries()
    cycles[current.attempt_id] = {"l": learner, "at": timestamp(current.asked_at)}
    save(cycles)


def finish(current: Cycle, response: dict) -> Submission:
    """Record how the answer applied to the patient and claim the cycle's credit, in one go."""
    application = Answer(current.attempt_id, "application", response, datetime.now(UTC))
    source = runtime().library.modules.get(current.module_id or "")
    submission = finish_poc_cycle(
        ledger().store,
        ledger().policy,
        application,
        idempotency_key=credit_key(current),
        source_approved=source is not None and editorial.is_approved(source),
    )
    cycles = entries()
    cycles.pop(current.attempt_id, None)
    save(cycles)
    return submission


def credit_outcome(learner: str, current: Cycle) -> Submission | None:
    """What finishing the cycle recorded or refused, or why it earns nothing yet; reads only."""
    recorded = ledger().store.submission(credit_key(current))
    if recorded is not None:
        return recorded
    store, policy = ledger().store, ledger().policy
    refusal = unfinished_poc_cycle(store, policy, learner, current.attempt_id, datetime.now(UTC))
    return Submission(created=False, refusal=refusal) if refusal else None


def credit_key(current: Cycle) -> str:
    """The idempotency key of a cycle's credit claim (one claim per cycle)."""
    return f"bedside-ui:poc-credit:{current.attempt_id}"


def open_cycles(learner: str) -> list[Cycle]:
    """The learner's unfinished, unexpired cycles started in this browser, newest first."""
    found = []
    for attempt_id, entry in entries().items():
        if entry.get("l") != learner or stale(entry):
            continue
        attempt = ledger().store.attempt(attempt_id)
        if attempt is not None and attempt.learner_id == learner:
            current = recorded_cycle(attempt)
        elif attempt is None and "q" in entry:
            current = Cycle(attempt_id, entry["q"], entry["r"], parse_timestamp(entry["at"]))
        else:
            continue
        if not current.applied and not current.expired:
            found.append(current)
    return sorted(found, key=lambda c: c.asked_at, reverse=True)


@dataclass(frozen=True)
class CreditOutlook:
    """What a cycle completed now would earn, said before its form is filled."""

    refusal: Refusal | None = None
    capped: tuple[CreditAward, ...] = ()  # awards cut below their designated amount by the cap


def credit_outlook(
    learner: str, now: datetime | None = None, current: Cycle | None = None
) -> CreditOutlook:
    """Whether a cycle (new, or `current`) would earn credit now, and how much if capped."""
    now = now or datetime.now(UTC)
    if current is not None and asks_credited_question(learner, current):
        return CreditOutlook(refusal=same_question_refusal())
    if current is not None and (unapproved := unapproved_source(current)):
        return CreditOutlook(refusal=unapproved)
    decision = poc_credit_outlook(credits_held_this_year(learner, now), ledger().policy, now)
    if isinstance(decision, Refusal):
        return CreditOutlook(refusal=decision)
    return CreditOutlook(capped=tuple(a for a in decision if a.amount < a.designated))


def unapproved_source(current: Cycle) -> Refusal | None:
    """Why the module a cycle consulted earns no credit here (production: not approved)."""
    source = runtime().library.modules.get(current.module_id or "")
    if source is None or not ledger().policy.approved_modules_only:
        return None
    return None if editorial.is_approved(source) else unapproved_module(source)


def asks_credited_question(learner: str, current: Cycle) -> bool:
    """Tell whether another cycle of the learner already earned credit for this cycle's question."""
    repeats = same_question_cycles(ledger().store, current.attempt_id)
    return bool(repeats) and any(c.attempt_id in repeats for c in credits_held(learner))


def credits_held_this_year(learner: str, now: datetime) -> list[HeldCredit]:
    """The learner's unreversed credits earned in now's UTC year."""
    return credits_held(learner, start=datetime(now.astimezone(UTC).year, 1, 1, tzinfo=UTC))


def credits_held(learner: str, start: datetime | None = None) -> list[HeldCredit]:
    """The learner's unreversed credits (earned since `start` when given)."""
    records = ledger().store.credits_for(learner, start=start)
    reversed_ = {record.reverses for record in records if record.reverses is not None}
    return [
        HeldCredit(
            r.activity_key, r.credit_type, r.amount, parse_timestamp(r.earned_at), r.attempt_id
        )
        for r in records
        if r.kind == "credit" and r.sequence not in reversed_
    ]

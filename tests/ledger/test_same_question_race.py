"""One clinical question earns point-of-care credit once, even when its cycles finish together."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest

from app.ledger.credit import claim_poc_credit, finish_poc_cycle
from app.ledger.models import Answer
from app.ledger.rules import CreditPolicy
from app.ledger.store import SqlLedgerStore, ledger_database
from app.ledger.verify import verify_chain
from tests.ledger.helpers import ISSUER, KEY, T0

POLICY = CreditPolicy()
QUESTION = "Does this patient need blood cultures before antibiotics?"


class OtherTabFirst:
    """A store clock that, when first read, lets another tab finish its cycle before going on.

    The store reads its clock after the claim's early reads and before the chain lock: what the
    other tab does then happens between the two, as when two tabs finish at the same moment.
    """

    def __init__(self) -> None:
        self.meanwhile: Callable[[], object] | None = None

    def __call__(self):
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile is not None:
            meanwhile()
        return T0


@pytest.fixture
def tab_clock():
    """The clock of the store the two tabs share."""
    return OtherTabFirst()


@pytest.fixture
def shared_store(ledger_url, tab_clock):
    """A ledger store (SQLite, then PostgreSQL) whose clock lets another tab go first."""
    ledger = SqlLedgerStore(ledger_database(ledger_url), KEY, clock=tab_clock)
    yield ledger
    ledger.close()


def asking(store, learner: str, question: str = QUESTION) -> str:
    """Start a cycle and record its question and sources; return its id."""
    attempt = str(uuid.uuid4())
    store.record_attempt(learner, ("poc", "sepsis-hour-1-bundle", "2.0.0"), attempt, T0)
    store.record_answer(Answer(attempt, "question", {"text": question, "reason": "x"}, T0))
    store.record_answer(Answer(attempt, "sources", {"modules": ["sepsis-hour-1-bundle"]}, T0))
    return attempt


def finishing(store, attempt: str):
    """Record a cycle's application and claim its credit (what the finish button does)."""
    application = Answer(attempt, "application", {"text": "ordered cultures"}, T0)
    return finish_poc_cycle(store, POLICY, application, f"finish:{attempt}")


def credited_cycles(store, learner: str) -> list[str]:
    """The attempt ids holding the learner's credit records."""
    return [record.attempt_id for record in store.credits_for(learner)]


def test_two_tabs_finishing_one_question_together_earn_one_credit(shared_store, tab_clock):
    learner = shared_store.ensure_learner(ISSUER, "Practitioner/1")
    first, second = asking(shared_store, learner), asking(shared_store, learner)
    tab_clock.meanwhile = lambda: finishing(shared_store, second)

    late = finishing(shared_store, first)

    assert late.refusal is not None and late.refusal.reason == "same-question"
    assert credited_cycles(shared_store, learner) == [second]
    assert verify_chain(shared_store).ok


def test_a_cycle_asked_and_credited_while_another_waits_is_seen_under_the_lock(
    shared_store, tab_clock
):
    """The question was asked after the waiting cycle's early reads: still one credit."""
    learner = shared_store.ensure_learner(ISSUER, "Practitioner/1")
    waiting = asking(shared_store, learner)
    quick = []

    def ask_and_finish_in_another_tab() -> None:
        quick.append(
            asking(
                shared_store, learner, "does this patient need BLOOD cultures before antibiotics"
            )
        )
        finishing(shared_store, quick[0])

    tab_clock.meanwhile = ask_and_finish_in_another_tab

    late = finishing(shared_store, waiting)

    assert late.refusal is not None and late.refusal.reason == "same-question"
    assert credited_cycles(shared_store, learner) == quick


def test_claiming_one_question_from_two_tabs_at_once_earns_one_credit(shared_store, tab_clock):
    learner = shared_store.ensure_learner(ISSUER, "Practitioner/1")
    first, second = asking(shared_store, learner), asking(shared_store, learner)
    for attempt in (first, second):
        shared_store.record_answer(Answer(attempt, "application", {"text": "cultures"}, T0))
    tab_clock.meanwhile = lambda: claim_poc_credit(
        shared_store, POLICY, learner, second, "claim-second", T0
    )

    late = claim_poc_credit(shared_store, POLICY, learner, first, "claim-first", T0)

    assert late.refusal is not None and late.refusal.reason == "same-question"
    assert credited_cycles(shared_store, learner) == [second]


def finish_together(store, attempts: list[str]) -> None:
    """Finish the cycles from one thread each, released together at a barrier."""
    barrier = threading.Barrier(len(attempts))

    def finish(attempt: str) -> None:
        barrier.wait()
        finishing(store, attempt)

    threads = [threading.Thread(target=finish, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_threads_finishing_one_question_at_once_earn_one_credit_each_round(shared_store):
    """Real threads meeting at a barrier, so the two finishes often share one group commit."""
    learner = shared_store.ensure_learner(ISSUER, "Practitioner/1")
    for round_ in range(5):
        pair = [asking(shared_store, learner, f"{QUESTION} Round {round_}.") for _ in range(2)]
        finish_together(shared_store, pair)
        credited = [c for c in credited_cycles(shared_store, learner) if c in pair]
        assert len(credited) == 1, f"round {round_}: {len(credited)} credits for one question"
    assert verify_chain(shared_store).ok

"""On PostgreSQL a claim is decided before the chain lock and appended under it in one statement.

What this must never change: the hash chain Python verifies, exactly-once by key, and decisions
that see every credit the learner holds. A claim whose learner gained a record, or whose key was
used, between its read and the lock is decided again under the lock.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from app.database import parse_database_url
from app.ledger.models import ClaimRequest
from app.ledger.rules import Refusal
from app.ledger.store import (
    ClaimInput,
    SqlLedgerStore,
    ledger_database,
    lock_chain_head,
    prepare_claims,
)
from app.ledger.verify import verify_chain
from tests.ledger.helpers import ISSUER, KEY, T0, award, request

ALREADY_HELD = Refusal("held", "Already credited this year.")
APPEND = (
    "SELECT outcome, first_number, head_before, new_hashes "
    "FROM ledger_append_claims_locked(CAST(%(claims)s AS JSONB))"
)


@pytest.fixture
def pg_ledger(postgres_url):
    """A migrated ledger store on a fresh PostgreSQL database."""
    ledger = SqlLedgerStore(ledger_database(parse_database_url(postgres_url)), KEY)
    yield ledger
    ledger.close()


def on_every_statement(store: SqlLedgerStore, seen: Callable[[str], None]) -> None:
    """Call seen(statement) for each statement the store's connections run, as psycopg runs it.

    Watched at the driver's cursor, not SQLAlchemy's events: the batch read and append run on
    psycopg's own cursor.
    """

    class WatchedCursor(psycopg.Cursor):
        def execute(self, query, params=None, **options):
            seen(query if isinstance(query, str) else query.as_string(self))
            return super().execute(query, params, **options)

    @event.listens_for(store.database.engine, "checkout")
    def watch(dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.cursor_factory = WatchedCursor


def statements_after_the_lock(store: SqlLedgerStore) -> list[list[str]]:
    """Record, from each statement that takes the chain lock, it and the statements after it.

    The lock is taken by a statement of its own (the general path) or by the batch append.
    """
    batches: list[list[str]] = []

    def seen(statement: str) -> None:
        if "pg_advisory_xact_lock" in statement or "ledger_append_claims_locked" in statement:
            batches.append([])
        if batches:
            batches[-1].append(statement)

    on_every_statement(store, seen)

    @event.listens_for(store.database.engine, "commit")
    def committed(_connection) -> None:
        if batches:
            batches[-1].append("COMMIT")

    return batches


def claim_state_reads(store: SqlLedgerStore) -> list[str]:
    """Record every statement that reads claims' state before the chain lock."""
    reads: list[str] = []

    def seen(statement: str) -> None:
        if (
            "jsonb_array_elements" in statement
            or "FROM ledger_attempts WHERE attempt_id IN" in statement
        ):
            reads.append(statement)

    on_every_statement(store, seen)
    return reads


def queue_behind_a_held_claim(store: SqlLedgerStore, learner: str, claims: list) -> dict:
    """Run claims (key, callable) while a first claim's decision holds the writer; their results."""
    release, results = threading.Event(), {}

    def held_back(_held):
        """The first claim's decision waits, so the others queue behind its batch."""
        release.wait(10)
        return [award("0.50")]

    def run(key: str, submit) -> None:
        try:
            results[key] = submit()
        except Exception as error:  # the outcome under test
            results[key] = error

    first = threading.Thread(
        target=run, args=("first", lambda: store.submit(request(learner), "first", held_back))
    )
    first.start()
    others = [threading.Thread(target=run, args=claim) for claim in claims]
    for thread in others:
        thread.start()
    deadline = time.monotonic() + 10
    while len(store._writer._queue) < len(claims) and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    return results


def other_host(postgres_url: str) -> SqlLedgerStore:
    """A second store on its own engine: another Bedside host."""
    return SqlLedgerStore(ledger_database(parse_database_url(postgres_url)), KEY, migrate=False)


def test_a_claim_holds_the_chain_lock_for_one_statement(pg_ledger):
    learner = pg_ledger.ensure_learner(ISSUER, "Practitioner/1")
    batches = statements_after_the_lock(pg_ledger)
    submission = pg_ledger.append_credit(request(learner), [award("0.50")], "key-1")
    assert submission.created and len(submission.records) == 1
    assert batches == [[APPEND]]  # takes the lock itself and commits with it: no COMMIT trip
    assert [r.sequence for r in pg_ledger.iter_chain()] == [1]  # committed, not rolled back


def test_the_batch_append_waits_for_the_chain_lock_another_host_holds(pg_ledger, postgres_url):
    learner = pg_ledger.ensure_learner(ISSUER, "Practitioner/1")
    other = ledger_database(parse_database_url(postgres_url))
    done = threading.Event()

    def claim() -> None:
        pg_ledger.append_credit(request(learner), [award("0.50")], "key-1")
        done.set()

    try:
        with other.write() as holder:
            lock_chain_head(holder)  # another host's batch holds the chain head
            submitter = threading.Thread(target=claim)
            submitter.start()
            assert not done.wait(1.0)  # queued on the lock, not appended beside the holder
        submitter.join(10)
    finally:
        other.dispose()
    assert done.is_set()
    assert verify_chain(pg_ledger).checked == 1


def test_the_database_hashes_records_exactly_as_python_verifies_them(pg_ledger):
    learner = pg_ledger.ensure_learner(ISSUER, "Practitioner/1")
    unusual = ClaimRequest(
        learner_id=learner,
        activity_type="case",
        activity_key="case:neumonía-adquirida@1.0.0",
        earned_at=T0,
        module_id="neumonía-adquirida",
        module_version="1.0.0",
        attempt_id="00000000-0000-0000-0000-000000000001",
        evidence={"nota": "Ñandú, 30 µg — «bien» ✓", "correct": 4, "total": 4},
    )
    first = pg_ledger.append_credit(unusual, [award("0.25"), award("0.50", "aafp")], "key-1")
    second = pg_ledger.append_credit(request(learner, 2), [award()], "key-2")
    stored = list(pg_ledger.iter_chain())
    assert [r.sequence for r in stored] == [1, 2, 3]
    assert stored == [*first.records, *second.records]  # what the caller got is what is stored
    report = verify_chain(pg_ledger)
    assert report.ok and report.checked == 3


def test_a_credit_recorded_by_another_host_after_the_read_is_seen_by_the_decision(
    pg_ledger, postgres_url
):
    learner = pg_ledger.ensure_learner(ISSUER, "Practitioner/1")
    second_host = other_host(postgres_url)
    seen: list[int] = []

    def first_credit_only(held):
        """Grant 0.50 unless the learner holds credit; after the first read, host B credits."""
        seen.append(len(held))
        if len(seen) == 1:  # between this read and the chain lock
            second_host.append_credit(request(learner, 2), [award()], "host-b")
        return ALREADY_HELD if held else [award("0.50")]

    try:
        submission = pg_ledger.submit(request(learner, 1), "host-a", first_credit_only)
    finally:
        second_host.close()
    assert seen == [0, 1]  # decided again under the lock, with host B's credit held
    assert submission.created and submission.refusal == ALREADY_HELD
    assert verify_chain(pg_ledger).checked == 1


def test_a_key_used_by_another_host_after_the_read_is_replayed_not_appended(
    pg_ledger, postgres_url
):
    learner = pg_ledger.ensure_learner(ISSUER, "Practitioner/1")
    second_host = other_host(postgres_url)
    reads: list[int] = []

    def grant(held):
        """Grant 0.25; on the first read, host B submits the same claim under the same key."""
        reads.append(len(held))
        if len(reads) == 1:
            second_host.submit(request(learner), "same-key", lambda _held: [award()])
        return [award()]

    try:
        replayed = pg_ledger.submit(request(learner), "same-key", grant)
    finally:
        second_host.close()
    assert replayed.created is False and [r.sequence for r in replayed.records] == [1]
    assert reads == [0]  # the replay needs no second decision
    assert verify_chain(pg_ledger).checked == 1


def test_claims_queued_together_are_appended_by_one_statement_in_arrival_order(pg_ledger):
    learners = [pg_ledger.ensure_learner(ISSUER, f"Practitioner/{n}") for n in range(6)]
    batches = statements_after_the_lock(pg_ledger)
    release, results = threading.Event(), {}

    def held_back(_held):
        """The first claim's decision waits, so the others queue behind its batch."""
        release.wait(10)
        return [award("0.50")]

    def claim(n: int, key: str, decide) -> None:
        results[key] = pg_ledger.submit(request(learners[n]), key, decide)

    first = threading.Thread(target=claim, args=(0, "first", held_back))
    first.start()
    others = [
        threading.Thread(target=claim, args=(n, f"k{n}", lambda _held: [award()]))
        for n in range(1, 6)
    ]
    for thread in others:
        thread.start()
    deadline = time.monotonic() + 10
    while len(pg_ledger._writer._queue) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert [len(results[k].records) for k in ("first", "k1", "k2", "k3", "k4", "k5")] == [1] * 6
    locking = [batch[0] for batch in batches]  # each statement that took the chain lock
    assert locking == [APPEND, APPEND], batches  # the held claim, then five claims in one trip
    assert {r.learner_id for r in pg_ledger.iter_chain()} == set(learners)
    report = verify_chain(pg_ledger)
    assert report.ok and report.checked == 6


def test_claims_queued_together_are_read_by_one_statement_each_with_its_own_outcome(pg_ledger):
    learners = [pg_ledger.ensure_learner(ISSUER, f"Practitioner/{n}") for n in range(4)]
    pg_ledger.submit(request(learners[1]), "used", lambda _held: [award()])
    reads = claim_state_reads(pg_ledger)
    claims = [
        ("fresh", lambda: pg_ledger.submit(request(learners[2]), "fresh", lambda _: [award()])),
        ("replay", lambda: pg_ledger.submit(request(learners[1]), "used", lambda _: [award()])),
        (
            "conflict",
            lambda: pg_ledger.submit(request(learners[3], 9), "used", lambda _: [award()]),
        ),
        ("nobody", lambda: pg_ledger.submit(request("no-such-learner"), "x", lambda _: [award()])),
        ("refused", lambda: pg_ledger.submit(request(learners[3]), "no", lambda _: ALREADY_HELD)),
    ]
    results = queue_behind_a_held_claim(pg_ledger, learners[0], claims)
    assert len(reads) == 2, reads  # the held claim's batch, then the five queued claims' batch
    assert len(results["first"].records) == 1 and len(results["fresh"].records) == 1
    assert results["replay"].created is False and len(results["replay"].records) == 1
    assert type(results["conflict"]).__name__ == "IdempotencyConflict"
    assert type(results["nobody"]).__name__ == "UnknownRecord"
    assert results["refused"].refusal == ALREADY_HELD
    report = verify_chain(pg_ledger)
    assert report.ok and report.checked == 3


def test_attempts_completed_together_are_read_by_one_statement_and_credited_once(pg_ledger):
    learners = [pg_ledger.ensure_learner(ISSUER, f"Practitioner/{n}") for n in range(5)]
    started = [
        pg_ledger.record_attempt(
            learner, ("case", f"module-{n}", "1.0.0"), str(uuid.UUID(int=n)), T0
        )
        for n, learner in enumerate(learners[1:], start=1)
    ]
    reads = claim_state_reads(pg_ledger)

    def completing(n: int, attempt):
        """Complete attempt n and claim its credit."""
        made = lambda done: (request(done.learner_id, n), lambda _held: [award()])  # noqa: E731
        return lambda: pg_ledger.complete_and_submit(attempt.attempt_id, (4, 4, 75), made, f"c{n}")

    claims = [(f"c{n}", completing(n, attempt)) for n, attempt in enumerate(started, start=1)]
    results = queue_behind_a_held_claim(pg_ledger, learners[0], claims)
    attempt_reads = [r for r in reads if "ledger_attempts" in r]
    assert len(attempt_reads) == 1, reads  # four attempts, one read
    assert all(len(results[f"c{n}"].records) == 1 for n in range(1, 5))
    assert all(pg_ledger.attempt(a.attempt_id).completed_at is not None for a in started)
    assert verify_chain(pg_ledger).checked == 5


def test_a_claim_the_database_refuses_fails_alone_and_the_rest_of_its_batch_chains_on(pg_ledger):
    learners = [pg_ledger.ensure_learner(ISSUER, f"Practitioner/{n}") for n in range(4)]
    bogus = replace(request(learners[2]), activity_type="bogus")  # the CHECK refuses it
    claims = [
        ("before", lambda: pg_ledger.submit(request(learners[1]), "before", lambda _: [award()])),
        ("bogus", lambda: pg_ledger.submit(bogus, "bogus", lambda _: [award(), award("0.50")])),
        ("after", lambda: pg_ledger.submit(request(learners[3]), "after", lambda _: [award()])),
    ]
    results = queue_behind_a_held_claim(pg_ledger, learners[0], claims)
    assert isinstance(results["bogus"], IntegrityError)
    assert pg_ledger.submission("bogus") is None  # none of its records or its key was kept
    assert [len(results[key].records) for key in ("first", "before", "after")] == [1, 1, 1]
    assert [r.sequence for r in results["after"].records] == [3]  # right after "before"
    report = verify_chain(pg_ledger)
    assert report.ok and report.checked == 3


def test_the_batch_read_gives_each_rule_the_learners_held_credits(pg_ledger):
    learner = pg_ledger.ensure_learner(ISSUER, "Practitioner/1")
    pg_ledger.append_credit(request(learner, 1), [award()], "held")
    seen: dict[str, list] = {}

    def decide_as(name: str):
        """A rule that grants 0.25, remembering the held credits it was given."""

        def decide(held):
            seen[name] = list(held)
            return [award()]

        return decide

    claims = [
        ClaimInput(request(learner, 2), ("k-rule", "f"), decide_as("rule"), T0),
        ClaimInput(request(learner, 3), ("k-other", "f"), decide_as("other"), T0),
    ]
    with pg_ledger.database.read() as connection:
        prepared = prepare_claims(connection, claims)
    assert [len(p.entries) for p in prepared] == [1, 1]
    held = [request(learner, 1).activity_key]
    assert [credit.activity_key for credit in seen["rule"]] == held
    assert [credit.activity_key for credit in seen["other"]] == held

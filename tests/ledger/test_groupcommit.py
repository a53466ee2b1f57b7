"""Group commit: concurrent writes share a transaction; a failure never acknowledges anything."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from sqlalchemy import text

from app.database import parse_database_url
from app.ledger.groupcommit import BatchedRead, GroupCommit, Wake
from app.ledger.models import LedgerUnavailable
from app.ledger.store import ledger_database


@pytest.fixture
def committer(tmp_path):
    """A GroupCommit over a scratch SQLite database with a deferred foreign key."""
    yield from scratch_committer(ledger_database(tmp_path / "scratch.db"))


@pytest.fixture
def pg_committer(postgres_url):
    """The same scratch committer on PostgreSQL (where writes may have an atomic statement)."""
    yield from scratch_committer(ledger_database(parse_database_url(postgres_url)))


def scratch_committer(database):
    """A GroupCommit over tables with a deferred foreign key (to fail a COMMIT)."""
    with database.write() as setup:
        setup.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        setup.execute(
            text(
                "CREATE TABLE item (value INTEGER, parent INTEGER "
                "REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
            )
        )
    committer = GroupCommit(database)
    committer.values = lambda: values(database)
    yield committer
    database.dispose()


def values(database) -> list[int]:
    """Return the committed values."""
    with database.read() as connection:
        return [row[0] for row in connection.execute(text("SELECT value FROM item ORDER BY 1"))]


def insert(value: int, parent: int | None = None):
    """Work that inserts one row."""
    return lambda connection: (
        connection.execute(
            text("INSERT INTO item VALUES (:value, :parent)"), {"value": value, "parent": parent}
        ).rowcount
    )


def fail_after_insert(connection):
    """Work that writes, then raises."""
    insert(99)(connection)
    raise ValueError("refused")


def one_batch_behind_a_slow_leader(committer, works, submit=None) -> list[Future]:
    """Hold a leader inside its transaction until every work is queued; return their futures.

    submit(work) submits one (committer.run(work) unless given).
    """
    submit = submit or committer.run
    leader_inside, release = threading.Event(), threading.Event()

    def slow(connection):
        leader_inside.set()
        release.wait(5)
        return insert(0)(connection)

    with ThreadPoolExecutor(len(works) + 1) as pool:
        leader = pool.submit(committer.run, slow)
        leader_inside.wait(5)
        futures = [pool.submit(submit, work) for work in works]
        while len(committer._queue) < len(works):
            time.sleep(0.001)
        release.set()
        leader.result()
        for future in futures:
            future.exception()  # wait for each
    return futures


def test_a_lone_submission_is_a_batch_of_one(committer):
    committer.run(insert(1))
    committer.run(insert(2))
    assert committer.values() == [1, 2]
    assert committer.batches == 2


def test_submissions_arriving_together_share_one_transaction(committer):
    futures = one_batch_behind_a_slow_leader(committer, [insert(n) for n in range(1, 11)])
    assert all(future.result() for future in futures)
    assert committer.values() == list(range(11))
    assert committer.batches == 2  # the leader's batch, then all ten followers in one


def test_a_failing_submission_undoes_only_its_own_writes(committer):
    futures = one_batch_behind_a_slow_leader(committer, [insert(1), fail_after_insert, insert(2)])
    assert futures[0].result() and futures[2].result()
    with pytest.raises(ValueError, match="refused"):
        futures[1].result()
    assert committer.values() == [0, 1, 2]


def test_when_the_commit_fails_every_submission_in_the_batch_fails(committer):
    futures = one_batch_behind_a_slow_leader(committer, [insert(1), insert(2, parent=42)])
    for future in futures:
        with pytest.raises(LedgerUnavailable, match="submitting again is safe"):
            future.result()
    assert committer.values() == [0]
    committer.run(insert(3))  # the committer recovers
    assert committer.values() == [0, 3]


def test_a_wake_set_before_its_wait_lets_the_wait_return_at_once():
    wake = Wake()
    wake.set()
    finished = threading.Event()
    threading.Thread(target=lambda: (wake.wait(), finished.set()), daemon=True).start()
    assert finished.wait(5)


def test_a_wake_holds_its_waiter_until_set():
    wake, finished = Wake(), threading.Event()
    threading.Thread(target=lambda: (wake.wait(), finished.set()), daemon=True).start()
    assert not finished.wait(0.2)
    wake.set()
    assert finished.wait(5)


def insert_all(connection, values: list[int]) -> list[str]:
    """An atomic step: insert every value of the batch in one statement."""
    statement = text("INSERT INTO item SELECT unnest(CAST(:values AS INTEGER[]))")
    connection.execute(statement, {"values": values})
    return ["inserted"] * len(values)


def atomically(committer, value: int):
    """A write that its batch's one atomic statement applies (its work is never run)."""
    never = lambda _connection: pytest.fail("the atomic statement applied it")  # noqa: E731
    prepare = BatchedRead(lambda _connection, items: items, value)
    return lambda: committer.run(never, prepare=prepare, atomic=insert_all)


def test_a_write_applied_by_its_atomic_statement_stands_when_the_rest_of_the_batch_fails(
    pg_committer,
):
    works = [atomically(pg_committer, 5), lambda: pg_committer.run(insert(6, parent=42))]
    futures = one_batch_behind_a_slow_leader(pg_committer, works, submit=lambda work: work())
    assert futures[0].result() == "inserted"  # committed with its statement: acknowledged
    with pytest.raises(LedgerUnavailable, match="submitting again is safe"):
        futures[1].result()  # its transaction's COMMIT failed
    assert pg_committer.values() == [0, 5]

"""Group commit: concurrent writes share a transaction; a failure never acknowledges anything."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from sqlalchemy import text

from app.ledger.groupcommit import GroupCommit, Wake
from app.ledger.models import LedgerUnavailable
from app.ledger.store import ledger_database


@pytest.fixture
def committer(tmp_path):
    """A GroupCommit over a scratch database with a deferred foreign key (to fail a COMMIT)."""
    database = ledger_database(tmp_path / "scratch.db")
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
        ).lastrowid
    )


def fail_after_insert(connection):
    """Work that writes, then raises."""
    insert(99)(connection)
    raise ValueError("refused")


def one_batch_behind_a_slow_leader(committer, works) -> list[Future]:
    """Hold a leader inside its transaction until every work is queued; return their futures."""
    leader_inside, release = threading.Event(), threading.Event()

    def slow(connection):
        leader_inside.set()
        release.wait(5)
        return insert(0)(connection)

    with ThreadPoolExecutor(len(works) + 1) as pool:
        leader = pool.submit(committer.run, slow)
        leader_inside.wait(5)
        futures = [pool.submit(committer.run, work) for work in works]
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

"""Group commit: concurrent writes share a transaction; a failure never acknowledges anything."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from app.db import LEDGER_SETTINGS, connect
from app.ledger.groupcommit import GroupCommit
from app.ledger.models import LedgerUnavailable


@pytest.fixture
def committer(tmp_path):
    """A GroupCommit over a scratch database with a deferred foreign key (to fail a COMMIT)."""
    path = tmp_path / "scratch.db"
    connections: list[sqlite3.Connection] = []
    local = threading.local()

    def connection_for_thread() -> sqlite3.Connection:
        if not hasattr(local, "connection"):
            local.connection = connect(path, LEDGER_SETTINGS)
            connections.append(local.connection)
        return local.connection

    setup = connection_for_thread()
    setup.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    setup.execute(
        "CREATE TABLE item (value INTEGER, parent INTEGER "
        "REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
    )
    committer = GroupCommit(connection_for_thread)
    committer.values = lambda: [
        row[0] for row in setup.execute("SELECT value FROM item ORDER BY 1")
    ]
    yield committer
    for connection in connections:
        connection.close()


def insert(value: int, parent: int | None = None):
    """Work that inserts one row."""
    return lambda connection: (
        connection.execute("INSERT INTO item VALUES (?, ?)", (value, parent)).lastrowid
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
        with pytest.raises(LedgerUnavailable, match="nothing was recorded"):
            future.result()
    assert committer.values() == [0]
    committer.run(insert(3))  # the committer recovers
    assert committer.values() == [0, 3]

"""Group commit: concurrent submissions in one process share one transaction and one sync.

With synchronous=FULL every commit waits for the disk, so one commit per submission caps the
ledger at 1/fsync-latency writes per second. Here the first submitter becomes the leader: it takes
every queued submission, runs each in its own SAVEPOINT inside one `BEGIN IMMEDIATE` transaction,
commits once, then wakes the others. Nobody is answered before the commit is durable; if the
commit fails, every submission in the batch fails and nothing is acknowledged. A single caller
sees exactly the old behaviour (a batch of one).
Across processes, leaders meet at `BEGIN IMMEDIATE` and SQLite's busy handler (30 s timeout).
(Queueing them on an fcntl lock instead was measured slower: strict turn-taking costs each
process its page cache on every commit.)
On PostgreSQL the general path runs the same way (savepoints, one transaction per batch): the
chain lock is then taken, and the WAL flushed, once per batch rather than once per claim
(measured in app/ledger/store.py: about twice the credits per second of one transaction per
claim).

A write may come in up to three steps, so that what runs under the lock `begin` takes (once per
batch, after every `prepare` and `atomic`, before the first `work`; the ledger's chain lock)
stays short. `prepare` and `atomic` are PostgreSQL's: they run outside any transaction, each
statement committed when it returns (no BEGIN and COMMIT round trips: a batch of claims is two
statements), and `work` then runs in a transaction of its own:
- `prepare`, a `BatchedRead(read_all, item)`: reads only, before the lock, for every write of
  the batch that names the same `read_all` in one call (one statement): `read_all(connection,
  items)` returns one result per item, in order, handed to `atomic`, or an exception, which is
  that write's outcome; what `read_all` raises (a database error) fails the batch;
- `atomic(connection, prepared_list)`: under the lock, once per batch for every write that
  names the same `atomic`, given what their prepares returned, in order: one statement that
  takes the lock `begin` takes itself (a round trip fewer) and applies each completely or not at
  all, committed with the statement, returning one outcome per write (None: "not applicable
  here", that write then runs `work`); what it raises fails the batch's writes not applied;
- `work(connection)`: the general case, in its own SAVEPOINT.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from app.database import Database
from app.ledger.models import LedgerUnavailable

T = TypeVar("T")
MAX_BATCH = 256
Step = Callable[[Connection], T]
ReadAll = Callable[[Connection, list[Any]], list[Any]]


@dataclass(frozen=True)
class BatchedRead:
    """A write's read done once per batch with the reads of every write naming the same read_all."""

    read_all: ReadAll
    item: Any


class GroupCommit:
    """Serialise write transactions within a process, batching those that arrive together."""

    def __init__(self, database: Database, begin: Callable[[Connection], None] | None = None):
        self._database = database
        self._begin = begin  # once per batch, before the first `work` (atomic steps lock alone)
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._busy = False
        self.batches = 0  # batches run (each one commit, two if some writes need `work`)
        self.locked_seconds = 0.0  # atomic statements and `work` transactions, for benchmarks

    def run(
        self,
        work: Step[T],
        *,
        prepare: BatchedRead | None = None,
        atomic: Callable[[Connection, list[Any]], list[T | None]] | None = None,
    ) -> T:
        """Run a write inside a committed transaction; return its result once durable."""
        pending: _Pending[T] = _Pending(work, prepare, atomic)
        with self._lock:
            self._queue.append(pending)
            leading = not self._busy
            self._busy = True
        if not leading:
            pending.wake.wait()  # until its batch is done, or it is promoted to lead the next
        if not pending.finished:
            self._lead()
        return pending.outcome()

    def _lead(self) -> None:
        """Run the next batch (this thread's submission is at its head), then hand over."""
        with self._lock:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            self._execute(batch)
        finally:
            with self._lock:
                if self._queue:
                    self._queue[0].wake.set()  # promoted: it leads the next batch
                else:
                    self._busy = False

    def _execute(self, batch: list[_Pending]) -> None:
        """Run a batch: its one-statement writes, then the rest in one transaction.

        A write is answered only once durable. A failure fails every write of the batch not yet
        applied; one applied by its atomic statement was committed with that statement.
        """
        self.batches += 1
        try:
            if any(p.prepare is not None or p.atomic is not None for p in batch):
                self._run_statements(batch)
            general = [p for p in batch if p.error is None and not p.applied]
            if general:
                self._run_transaction(general)
        except BaseException as error:
            for pending in batch:
                if not pending.applied:
                    pending.fail(error)
            if not isinstance(error, Exception):
                raise
        finally:
            for pending in batch:
                pending.finish()

    def _run_statements(self, batch: list[_Pending]) -> None:
        """Reads, then atomic writes, each a statement committed on its own (PostgreSQL)."""
        with self._database.autocommit() as connection:  # no BEGIN, no COMMIT round trip
            run_prepares(connection, batch)
            locked_at = time.perf_counter()
            try:
                run_atomic(connection, batch)
            finally:
                self.locked_seconds += time.perf_counter() - locked_at

    def _run_transaction(self, general: list[_Pending]) -> None:
        """The general path: each write in its own savepoint, the lock taken first, one commit."""
        locked_at = time.perf_counter()
        try:
            with self._database.write() as connection:  # BEGIN IMMEDIATE … COMMIT or ROLLBACK
                if self._begin is not None:
                    self._begin(connection)
                for pending in general:
                    run_in_savepoint(connection, pending)
        finally:
            self.locked_seconds += time.perf_counter() - locked_at


def run_prepares(connection: Connection, batch: list[_Pending]) -> None:
    """Run the batch's reads before the lock, one call for each `read_all` the writes name."""
    groups: dict[ReadAll, list[_Pending]] = {}
    for pending in batch:
        if pending.prepare is not None:
            groups.setdefault(pending.prepare.read_all, []).append(pending)
    for read_all, group in groups.items():
        results = read_all(connection, [pending.prepare.item for pending in group])
        for pending, result in zip(group, results, strict=True):
            if isinstance(result, Exception):
                pending.error = result
            else:
                pending.prepared = result


def run_atomic(connection: Connection, batch: list[_Pending]) -> None:
    """Run the one-statement form of every write that has one, one call per `atomic`."""
    groups: dict[Callable, list[_Pending]] = {}
    for pending in batch:
        if pending.error is None and pending.atomic is not None:
            groups.setdefault(pending.atomic, []).append(pending)
    for atomic, group in groups.items():
        outcomes = atomic(connection, [pending.prepared for pending in group])
        for pending, value in zip(group, outcomes, strict=True):
            if value is not None:
                pending.value, pending.applied = value, True


def run_in_savepoint(connection: Connection, pending: _Pending) -> None:
    """Run one submission; undo only its own writes when it raises."""
    savepoint = connection.begin_nested()
    try:
        pending.value = pending.work(connection)
    except Exception as error:
        savepoint.rollback()
        pending.error = error
    else:
        savepoint.commit()


class Wake:
    """A one-shot wake-up: a bare lock, taken at birth, released to wake the one waiter.

    threading.Event (a Condition, a waiter lock made per wait, a deque) was a tenth of a
    submitting thread's CPU at eight submitters; this is one C call each side. Each submission
    is woken at most once before it runs again (finished, or promoted to lead), so the lock is
    never released twice while nobody holds it.
    """

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()

    def wait(self) -> None:
        """Block until set() is called."""
        self._lock.acquire()

    def set(self) -> None:
        """Wake the waiter (or let its coming wait() return at once)."""
        self._lock.release()


class _Pending(Generic[T]):
    """A queued submission and, once its batch is done, its outcome."""

    def __init__(
        self,
        work: Step[T],
        prepare: BatchedRead | None = None,
        atomic: Callable[[Connection, list[Any]], list[T | None]] | None = None,
    ):
        self.work = work
        self.prepare = prepare
        self.atomic = atomic
        self.prepared: Any = None  # what prepare returned, for atomic
        self.applied = False  # atomic gave the outcome
        self.wake = Wake()
        self.finished = False
        self.value: T | None = None
        self.error: BaseException | None = None

    def fail(self, error: BaseException) -> None:
        """Mark the submission lost with its batch."""
        failure = LedgerUnavailable(
            f"The ledger could not confirm the commit ({type(error).__name__}); submitting again "
            "is safe: an idempotency key is recorded at most once."
        )
        failure.__cause__ = error
        self.error = failure

    def finish(self) -> None:
        """Publish the outcome and wake the submitter."""
        self.finished = True
        self.wake.set()

    def outcome(self) -> T:
        """Return the result, or raise the submission's error."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]

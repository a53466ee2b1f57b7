"""SQLite connections for the ledger (WAL, synchronous=FULL) and its migration lock.

Why synchronous=FULL: the ledger is evidence. In WAL mode FULL syncs the write-ahead log at every
commit, so a credit acknowledged to a learner survives a process crash *and* an OS crash or power
loss. NORMAL (what the CDS store uses for exposures and replay entries) syncs only at checkpoints:
still atomic and crash-safe for the process, but the last commits can roll back on power loss.
Group commit (see groupcommit.py) pays one sync for many concurrent submissions.
`fullfsync` makes macOS flush the drive's cache too (a no-op elsewhere).
"""

from __future__ import annotations

import fcntl
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from app.ledger.schema import migrations

BUSY_TIMEOUT_SECONDS = 30.0
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA fullfsync=ON",
    "PRAGMA foreign_keys=ON",
)


def open_connection(path: Path) -> sqlite3.Connection:
    """Open the ledger database in autocommit mode (transactions are explicit) with its PRAGMAs."""
    connection = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
    )
    for pragma in PRAGMAS:
        connection.execute(pragma)
    return connection


def apply_migrations(path: Path) -> list[str]:
    """Apply pending ledger migrations under the file lock; return the names applied."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with MigrationLock(path):
        connection = open_connection(path)
        try:
            db = Database(connection, execute_plugins=False)
            pending = [migration.name for migration in migrations.pending(db)]
            migrations.apply(db)
        finally:
            connection.close()
    return pending


def applied_migrations(path: Path) -> list[str]:
    """Return the ledger migrations already applied to a database file."""
    connection = open_connection(path)
    try:
        return [m.name for m in migrations.applied(Database(connection, execute_plugins=False))]
    finally:
        connection.close()


class MigrationLock:
    """An exclusive fcntl lock on `<database>.lock`, the same file the CDS store locks.

    Sharing the lock file also serialises the two migration sets, which share `_sqlite_migrations`.
    """

    def __init__(self, database: Path):
        self.path = database.with_suffix(database.suffix + ".lock")
        self._handle = None

    def __enter__(self) -> MigrationLock:
        self._handle = open(self.path, "a")
        fcntl.flock(self._handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

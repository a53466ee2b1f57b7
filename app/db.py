"""SQLite plumbing shared by every store: WAL connections and race-free migrations."""

from __future__ import annotations

import fcntl
import sqlite3
import threading
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations


class SqliteStore:
    """Base of the stores that share one SQLite file across workers: one connection per thread."""

    def __init__(self, path: Path, migrations: Migrations, *, synchronous: str = "NORMAL"):
        self.path = Path(path)
        self._synchronous = synchronous
        self._local = threading.local()
        migrate(self.path, migrations)

    def _connection(self) -> sqlite3.Connection:
        """Return this thread's connection, opening it on first use."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = connect(self.path, synchronous=self._synchronous)
            self._local.connection = connection
        return connection


def connect(path: Path, *, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """Open a connection in WAL mode with a busy timeout, usable from any thread."""
    connection = sqlite3.connect(path, timeout=10.0, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={synchronous}")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


def migrate(path: Path, migrations: Migrations) -> None:
    """Apply pending migrations under an exclusive file lock, so workers never race."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path.with_suffix(path.suffix + ".lock")):
        connection = connect(path)
        try:
            migrations.apply(Database(connection))
        finally:
            connection.close()


class FileLock:
    """An exclusive fcntl lock on a file, as a context manager."""

    def __init__(self, path: Path):
        self.path = path
        self._handle = None

    def __enter__(self) -> FileLock:
        self._handle = open(self.path, "a")
        fcntl.flock(self._handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc_info) -> None:
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()

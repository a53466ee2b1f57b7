"""SQLite plumbing for every store: connections and their lifetime, migrations, the app's stores.

Connections: each store keeps one connection per thread, so a steady thread pool (gunicorn's
gthread workers) reuses its connections and pays no connect or PRAGMA cost per call. A thread's
connection is closed when the thread ends and `close()` closes the rest, so open connections stay
bounded by the live threads however many come and go (werkzeug's threaded server, used by
`flask run` and the test live servers, starts one thread per request).

Durability: every store runs in WAL mode. The stores use synchronous=NORMAL: commits are atomic
and survive a process crash, but the last ones can roll back on an OS crash or power loss (for CDS
exposures, replay entries and sessions that is an acceptable loss, at far lower cost).
Why the ledger uses synchronous=FULL: the ledger is evidence. In WAL mode FULL syncs the
write-ahead log at every commit, so a credit acknowledged to a learner survives a process crash
*and* an OS crash or power loss. Group commit (app/ledger/groupcommit.py) pays one sync for many
concurrent submissions. `fullfsync` makes macOS flush the drive's cache too (a no-op elsewhere).
The ledger also runs in autocommit mode (isolation_level=None): its transactions are explicit.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.parse import quote

from flask import Flask
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from app.errors import ConfigError

STORES_EXTENSION = "bedside_stores"
# What SQLite says of a path that is a folder, or a file that is not a database.
NOT_A_DATABASE_FILE = {sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOTADB}


@dataclass(frozen=True)
class ConnectionSettings:
    """How a store's connections are opened: durability, transaction mode and busy timeout."""

    synchronous: str = "NORMAL"
    isolation_level: str | None = ""  # sqlite3's default: implicit deferred transactions
    fullfsync: bool = False
    busy_timeout: float = 10.0
    read_only: bool = False  # a reader's: creates no file, keeps the journal mode (read_only_uri)

    def pragmas(self) -> list[str]:
        """Return the PRAGMAs run on every new connection."""
        journal = [] if self.read_only else ["PRAGMA journal_mode=WAL"]
        pragmas = [*journal, f"PRAGMA synchronous={self.synchronous}"]
        if self.fullfsync:
            pragmas.append("PRAGMA fullfsync=ON")
        return [*pragmas, "PRAGMA foreign_keys=ON"]


STORE_SETTINGS = ConnectionSettings()
LEDGER_SETTINGS = ConnectionSettings(
    synchronous="FULL", isolation_level=None, fullfsync=True, busy_timeout=30.0
)


class SqliteStore:
    """Base of the stores that share one SQLite file across workers: one connection per thread."""

    def __init__(
        self,
        path: Path | str,
        migrations: Migrations,
        *,
        settings: ConnectionSettings = STORE_SETTINGS,
        migrate: bool = True,
    ):
        self.path = Path(path)
        self._connections = ThreadConnections(self.path, settings)
        if migrate:
            with opening(self.path):
                apply_migrations(self.path, migrations, settings)

    def close(self) -> None:
        """Close every connection this store opened (no work may be in flight)."""
        self._connections.close()

    def _connection(self) -> sqlite3.Connection:
        """Return this thread's connection, opening it on first use."""
        return self._connections.get()


class ThreadConnections:
    """One connection per thread, closed when its thread ends; `close()` closes them all."""

    def __init__(self, path: Path, settings: ConnectionSettings):
        self.path = path
        self.settings = settings
        self._local = threading.local()
        # The thread-end finalizers hold this set and lock, never self: a store nobody uses any
        # more is still garbage-collected (and its connections closed) while its threads live.
        self._open: set[sqlite3.Connection] = set()
        self._lock = threading.RLock()  # finalizers may run in a thread already holding it

    def get(self) -> sqlite3.Connection:
        """Return this thread's connection, opening it on first use."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._open_for_this_thread()
        return connection

    def close(self) -> None:
        """Close every open connection; a later get() opens a new one."""
        with self._lock:
            connections = list(self._open)
            self._open.clear()
            finished, self._local = self._local, threading.local()
        del finished  # outside the lock: dropping it runs the threads' finalizers
        for connection in connections:
            connection.close()

    def _open_for_this_thread(self) -> sqlite3.Connection:
        """Open a connection, keep it for this thread and arrange its closing at thread end."""
        connection = connect(self.path, self.settings)
        with self._lock:
            self._open.add(connection)
        thread_end = _ThreadEnd()
        weakref.finalize(thread_end, _close_and_forget, connection, self._open, self._lock)
        self._local.connection = connection
        self._local.thread_end = thread_end  # dropped with the thread's locals when it ends
        return connection


def connect(path: Path, settings: ConnectionSettings = STORE_SETTINGS) -> sqlite3.Connection:
    """Open a connection with these settings, usable from any thread."""
    uri = read_only_uri(path) if settings.read_only else None
    if not settings.read_only:
        create_private_file(path)
    connection = sqlite3.connect(
        uri or path,
        uri=uri is not None,
        timeout=settings.busy_timeout,
        isolation_level=settings.isolation_level,
        check_same_thread=False,
    )
    for pragma in settings.pragmas():
        connection.execute(pragma)
    return connection


def create_private_file(path: Path | str) -> None:
    """Create the database file owner-only (0600) before SQLite does (it would use 0644).

    SQLite gives the -wal and -shm files it makes the main file's permissions, so they follow.
    An existing file keeps its mode: the operator may have chosen it.
    """
    path = Path(path)
    if str(path) == ":memory:" or path.exists():
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError:
        return  # no such folder, no permission: sqlite3 reports it as before


def read_only_uri(path: Path) -> str | None:
    """Return the URI a reader opens a file by in a folder Bedside cannot write (None: it can).

    In a writable folder a reader opens the file as every store does (SQLite then removes the
    -wal and -shm files it made). In one it cannot write, SQLite cannot make the -shm file a
    reader of a WAL database needs: the file opens read-only when its -shm is there or its -wal
    holds records (an immutable open would skip them), else immutable, as the read-only copy
    it is.
    """
    if os.access(path.parent, os.W_OK):
        return None
    wal, shm = (path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))
    pending = shm.exists() or (wal.exists() and wal.stat().st_size > 0)
    return f"file:{quote(str(path))}?mode=ro" + ("" if pending else "&immutable=1")


def apply_migrations(
    path: Path, migrations: Migrations, settings: ConnectionSettings = STORE_SETTINGS
) -> list[str]:
    """Apply pending migrations under the migration lock (workers never race); return the names."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise cannot_create("the database's folder", path.parent, error) from None
    with migration_lock(path):
        connection = connect(path, settings)
        try:
            db = Database(connection, execute_plugins=False)
            pending = [migration.name for migration in migrations.pending(db)]
            migrations.apply(db)
        finally:
            connection.close()
    return pending


@contextmanager
def opening(path: Path) -> Iterator[None]:
    """Turn a path SQLite cannot open as a database (a folder, a text file) into ConfigError."""
    try:
        yield
    except sqlite3.DatabaseError as error:
        code = getattr(error, "sqlite_errorcode", 0)  # none when Python itself raised it
        if code & 0xFF not in NOT_A_DATABASE_FILE:  # the primary code
            raise
        raise ConfigError(
            f"The database file {path} cannot be opened ({error}): name a SQLite database, "
            "or a new file in a folder Bedside may write to."
        ) from None


def check_database_file(path: Path) -> None:
    """Open the file once; ConfigError in one sentence when SQLite cannot use it as a database."""
    with opening(path):
        connect(path).close()


def applied_migrations(
    path: Path, migrations: Migrations, settings: ConnectionSettings = STORE_SETTINGS
) -> list[str]:
    """Return the names of the migrations of this set already applied to a database file."""
    connection = connect(path, settings)
    try:
        return [m.name for m in migrations.applied(Database(connection, execute_plugins=False))]
    finally:
        connection.close()


def migration_lock(database: Path) -> FileLock:
    """Return the lock on `<database>.lock` that every migration set of this file takes.

    One lock file for all the sets also serialises them: they share `_sqlite_migrations`.
    """
    return FileLock(database.with_suffix(database.suffix + ".lock"))


class FileLock:
    """An exclusive fcntl lock on a file, as a context manager."""

    def __init__(self, path: Path):
        self.path = path
        self._handle = None

    def __enter__(self) -> FileLock:
        try:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
        except OSError as error:
            raise cannot_create("the lock file", self.path, error) from None
        self._handle = os.fdopen(descriptor, "a")
        fcntl.flock(self._handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def cannot_create(what: str, path: Path, error: OSError) -> ConfigError:
    """Say in one sentence that a file or folder beside the database cannot be made."""
    return ConfigError(
        f"Bedside cannot create {what} {path} ({error.strerror or error}): it must be in a "
        "folder Bedside may write to, and nothing else may have its name."
    )


class Closable(Protocol):
    """A store the app closes at teardown."""

    def close(self) -> None: ...


StoreT = TypeVar("StoreT", bound=Closable)


def register_store(app: Flask, store: StoreT) -> StoreT:
    """Remember a store of this app so close_stores(app) closes it; return the store."""
    app.extensions.setdefault(STORES_EXTENSION, []).append(store)
    return store


def close_stores(app: Flask) -> None:
    """Close every store registered on the app (at worker exit and test teardown)."""
    for store in app.extensions.get(STORES_EXTENSION, []):
        store.close()


class _ThreadEnd:
    """A marker kept in a thread's locals; its finalizer closes the thread's connection."""

    __slots__ = ("__weakref__",)


def _close_and_forget(
    connection: sqlite3.Connection, open_connections: set, lock: threading.RLock
) -> None:
    """Close a connection whose thread ended and stop tracking it."""
    with lock:
        open_connections.discard(connection)
    connection.close()

"""The database behind the shared stores: a SQLite file (embedded default) or a PostgreSQL server.

`BEDSIDE_DATABASE_URL` chooses it: `sqlite:///instance/bedside.db` (a relative path is relative
to the repository, as `BEDSIDE_DATABASE` is) or `postgresql://user:password@host:5432/bedside`.
Without it the SQLite file `BEDSIDE_DATABASE` is used, as before.

A store holds a `Database`: one SQLAlchemy engine (psycopg 3 for PostgreSQL) and what differs
between the engines. Store SQL is written once, in the subset both engines share (named
parameters, `INSERT … ON CONFLICT DO NOTHING`, no rowid); only DDL is per engine. SQLite keeps
its sqlite-utils migrations, so existing files upgrade exactly as before; PostgreSQL gets its
own migration steps, applied in one transaction each under an advisory lock, so several hosts
starting at once never race (the second waits, then finds nothing pending).

SQLite connections run the PRAGMAs of app/db.py (WAL, synchronous, foreign keys) and own their
transactions: `write()` begins with BEGIN IMMEDIATE, so a read-then-write never deadlocks
on lock upgrade; `read()` takes no write lock.
"""

from __future__ import annotations

import contextlib
import re
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool
from sqlite_utils.migrations import Migrations

from app import db as sqlite_files
from app.config import split_url
from app.db import STORE_SETTINGS, ConnectionSettings, register_store
from app.errors import ConfigError
from app.settings import REPO_ROOT

SQLITE, POSTGRESQL = "sqlite", "postgresql"
EXTENSION = "bedside_database"
BEGIN_OPTION = "bedside_sqlite_begin"
PG_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS bedside_migrations (
    migration_set TEXT NOT NULL,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (migration_set, name)
)
"""
PG_CONNECT_TIMEOUT_SECONDS = 10
# A pooled PostgreSQL connection idle this long is pinged before use (a server restart while a host
# sat idle costs no request); a busy host's connections are reused without the extra round trip.
# A connection broken under load fails its request once and SQLAlchemy renews the pool.
PING_AFTER_IDLE_SECONDS = 5.0
INSUFFICIENT_PRIVILEGE = "42501"  # PostgreSQL SQLSTATE


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed BEDSIDE_DATABASE_URL: which engine, and where."""

    dialect: str  # SQLITE | POSTGRESQL
    sqlalchemy_url: str
    sqlite_path: Path | None = None

    @property
    def shown(self) -> str:
        """The URL without its password, for messages and logs."""
        if self.sqlite_path is not None:
            return f"sqlite:///{self.sqlite_path}"
        parts = urlsplit(self.sqlalchemy_url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        user = f"{parts.username}@" if parts.username else ""
        return f"postgresql://{user}{host}{port}{parts.path}"


def parse_database_url(text_url: str) -> DatabaseUrl:
    """Read a database URL; ConfigError in one sentence when it is neither SQLite nor PostgreSQL."""
    url = text_url.strip()
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "sqlite":
        return sqlite_url(url)
    if scheme in {"postgresql", "postgres", "postgresql+psycopg"}:
        parts = split_url(url)
        if parts is None:
            raise ConfigError(
                "BEDSIDE_DATABASE_URL has a host or port that cannot be read "
                "(write postgresql://user:password@host:5432/bedside)."
            )
        if not parts.hostname and "host=" not in parts.query:
            raise ConfigError("BEDSIDE_DATABASE_URL names no PostgreSQL host.")
        if not parts.path.strip("/"):
            raise ConfigError("BEDSIDE_DATABASE_URL names no PostgreSQL database (…/dbname).")
        return DatabaseUrl(POSTGRESQL, "postgresql+psycopg://" + url.split("://", 1)[1])
    raise ConfigError(
        "BEDSIDE_DATABASE_URL must start with sqlite:/// or postgresql://, "
        f"not {url.split('://', 1)[0][:20]!r}."
    )


def sqlite_url(url: str) -> DatabaseUrl:
    """A sqlite:///path URL (relative paths from the repository root)."""
    rest = url.split("://", 1)[1]
    if not rest.startswith("/") or rest == "/":
        raise ConfigError("BEDSIDE_DATABASE_URL must look like sqlite:///path/to/bedside.db.")
    path = Path(rest[1:]).expanduser()
    return sqlite_path_url(path if path.is_absolute() else REPO_ROOT / path)


def sqlite_path_url(path: Path) -> DatabaseUrl:
    """The URL of a SQLite file given by path (BEDSIDE_DATABASE, tests)."""
    return DatabaseUrl(SQLITE, f"sqlite+pysqlite:///{path}", Path(path))


Grants = tuple[tuple[str, tuple[str, ...]], ...]  # (privileges, objects) the store's SQL needs


@dataclass(frozen=True)
class StoreSchema:
    """One store's migrations (sqlite-utils steps, PostgreSQL steps) and its role's privileges.

    `grants` are exactly the statements the store's code runs on PostgreSQL, per table (or
    `SEQUENCE name`): what a least-privilege application role needs, no more.
    """

    name: str
    sqlite: Migrations
    postgresql: Sequence[tuple[str, str | Callable[[Connection], None]]]
    grants: Grants = ()


ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def role_script(schemas: Sequence[StoreSchema], role: str) -> str:
    """The SQL giving an application role exactly what the stores' code runs, and no more.

    Each object's privileges are revoked first, then granted as the store declares, so running
    it again, or after a release changed a grant, leaves the role with exactly those. Run it as
    the tables' owner after `bedside db migrate`; the role must not own the tables (an owner
    could drop the ledger's append-only triggers).
    """
    if not ROLE_NAME.match(role):
        raise ValueError(f"{role!r} is not a plain PostgreSQL role name (a-z, 0-9, _).")
    grants: list[tuple[str, tuple[str, ...]]] = [("SELECT", ("bedside_migrations",))]
    for schema in schemas:
        grants += schema.grants
    lines = [f'GRANT USAGE ON SCHEMA public TO "{role}";']
    for privileges, objects in grants:
        lines += [f'REVOKE ALL ON {name} FROM "{role}";' for name in objects]
        lines.append(f'GRANT {privileges} ON {", ".join(objects)} TO "{role}";')
    return "\n".join(lines) + "\n"


@dataclass
class SharedConnection:
    """The connection a Database.one_connection() block shares, once checked out."""

    database: Database
    checkouts: contextlib.ExitStack
    connection: Connection | None = None


CALL_CONNECTION: ContextVar[SharedConnection | None] = ContextVar(
    "bedside_shared_connection", default=None
)


class Database:
    """An engine shared by the stores of one app, and what differs between the engines."""

    def __init__(self, url: DatabaseUrl, settings: ConnectionSettings = STORE_SETTINGS):
        self.url = url
        self.settings = settings
        self.engine = make_engine(url, settings)

    @property
    def dialect(self) -> str:
        """SQLITE or POSTGRESQL."""
        return self.url.dialect

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that will write: committed on success, rolled back on error."""
        with self.engine.connect() as connection:
            connection = connection.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
            with connection.begin():
                yield connection

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only use of one connection (a deferred transaction, rolled back at the end)."""
        with self.engine.connect() as connection:
            yield connection

    @contextlib.contextmanager
    def lookup(self) -> Iterator[Connection]:
        """A read of ONE statement: on PostgreSQL outside any transaction, as read() on SQLite.

        On PostgreSQL a transaction costs a read two more round trips than its statement (BEGIN,
        then ROLLBACK); a CDS call's replay check and fatigue rules skip them. A read of several
        statements that must agree uses read().
        """
        with self._one_statement(self.read) as connection:
            yield connection

    @contextlib.contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """PostgreSQL only: each statement its own transaction, committed when it returns.

        No BEGIN and COMMIT round trips around it: for a read of one statement, or a write done
        completely by one statement (the ledger's batch append).
        """
        if self.dialect != POSTGRESQL:
            raise ValueError("Only PostgreSQL runs statements outside a transaction here.")
        with self._autocommit() as connection:
            yield connection

    @contextlib.contextmanager
    def write_statement(self) -> Iterator[Connection]:
        """A write of ONE statement: on PostgreSQL its own transaction, as write() on SQLite.

        A PostgreSQL statement outside a transaction commits on its own, atomically: the
        BEGIN and COMMIT a write() sends would be two more round trips. A write of several
        statements that must all happen, or none, uses write().
        """
        with self._one_statement(self.write) as connection:
            yield connection

    @contextlib.contextmanager
    def _one_statement(
        self, on_sqlite: Callable[[], contextlib.AbstractContextManager[Connection]]
    ) -> Iterator[Connection]:
        """One statement's connection: SQLite's read() or write(), PostgreSQL's autocommit one."""
        opened = on_sqlite() if self.dialect == SQLITE else self._autocommit()
        with opened as connection:
            yield connection

    @contextlib.contextmanager
    def one_connection(self) -> Iterator[None]:
        """Within it, this context's lookup() and write_statement() share one connection.

        On PostgreSQL a checkout (and its autocommit switch) costs the client about as much CPU
        as the statement; a CDS call's three or four statements share one checkout. The
        connection is checked out at first use, returned at the end. SQLite: nothing changes.
        """
        if self.dialect == SQLITE or CALL_CONNECTION.get() is not None:
            yield
            return
        with contextlib.ExitStack() as checkouts:
            token = CALL_CONNECTION.set(SharedConnection(self, checkouts))
            try:
                yield
            finally:
                CALL_CONNECTION.reset(token)

    @contextlib.contextmanager
    def _autocommit(self) -> Iterator[Connection]:
        """A PostgreSQL connection in autocommit mode: the shared one, if any, else its own."""
        shared = CALL_CONNECTION.get()
        if shared is None or shared.database is not self:
            with self.engine.connect() as connection:
                yield connection.execution_options(isolation_level="AUTOCOMMIT")
            return
        if shared.connection is None:
            connection = shared.checkouts.enter_context(self.engine.connect())
            shared.connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        yield shared.connection

    def migrate(self, schema: StoreSchema) -> list[str]:
        """Apply the store's pending migrations race-free; return the names applied."""
        if self.dialect == SQLITE:
            path = self.url.sqlite_path
            return sqlite_files.apply_migrations(path, schema.sqlite, self.settings)
        return apply_postgresql_migrations(self.engine, schema)

    def applied(self, schema: StoreSchema) -> list[str]:
        """Return the names of the store's migrations already applied."""
        if self.dialect == SQLITE:
            path = self.url.sqlite_path
            return sqlite_files.applied_migrations(path, schema.sqlite, self.settings)
        with self.engine.connect() as connection:
            if not has_migrations_table(connection):
                return []
            rows = connection.execute(
                text("SELECT name FROM bedside_migrations WHERE migration_set = :set"),
                {"set": schema.name},
            )
            return [row[0] for row in rows]

    def dispose(self) -> None:
        """Close every pooled connection (at worker exit and test teardown)."""
        self.engine.dispose()

    close = dispose


def make_engine(url: DatabaseUrl, settings: ConnectionSettings) -> Engine:
    """Create the engine: SQLite with Bedside's PRAGMAs and own BEGIN, or PostgreSQL (psycopg)."""
    try:
        if url.dialect == SQLITE:
            return sqlite_engine(url, settings)
        engine = create_engine(
            url.sqlalchemy_url,
            hide_parameters=True,
            pool_size=5,
            max_overflow=20,
            connect_args=postgresql_connect_args(settings),
        )
        ping_connections_left_idle(engine)
        return engine
    except ArgumentError as error:
        raise ConfigError(f"BEDSIDE_DATABASE_URL is not a usable database URL ({error}).") from None


def ping_connections_left_idle(engine: Engine) -> None:
    """Check a pooled connection that sat idle before handing it out; replace it when dead."""

    @event.listens_for(engine, "checkin")
    def remember_when_idle(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        autocommit = dbapi_connection.autocommit
        try:
            dbapi_connection.autocommit = True  # the ping opens no transaction
            dbapi_connection.execute("SELECT 1")
            dbapi_connection.autocommit = autocommit
        except Exception as error:  # the pool discards it and opens another (up to 3 tries)
            raise DisconnectionError(str(error)) from error


def postgresql_connect_args(settings: ConnectionSettings) -> dict:
    """psycopg's connection arguments: a timeout, and the store's durability as on SQLite.

    The ledger (synchronous=FULL on SQLite) keeps the server's synchronous_commit, which must be
    on. The other stores (NORMAL on SQLite: CDS calls, sessions, profiles) commit without waiting
    for the WAL flush: what they commit is visible to every host at once and survives a Bedside
    crash, but a database server crash may lose the last fraction of a second of them, as an OS
    crash may on SQLite; measured, a commit then takes about a sixth of the time.
    """
    arguments: dict = {"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS}
    if settings.synchronous != "FULL":
        arguments["options"] = "-c synchronous_commit=off"
    return arguments


def sqlite_engine(url: DatabaseUrl, settings: ConnectionSettings) -> Engine:
    """A SQLite engine whose connections run the store PRAGMAs and whose writes BEGIN IMMEDIATE."""
    path = url.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    sqlite_files.create_private_file(path)
    engine = create_engine(
        url.sqlalchemy_url,
        connect_args={"timeout": settings.busy_timeout, "check_same_thread": False},
        hide_parameters=True,  # errors and logs never carry the values (learner or user keys)
        poolclass=NullPool if str(path) == ":memory:" else None,
    )

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's begin event emits BEGIN
        for pragma in settings.pragmas():
            dbapi_connection.execute(pragma)

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def apply_postgresql_migrations(engine: Engine, schema: StoreSchema) -> list[str]:
    """Apply pending PostgreSQL steps, each in its own transaction, under an advisory lock.

    An up-to-date database is only read (no DDL, no lock): a least-privilege application role,
    which may not create anything, starts a host once the owner has run `bedside db migrate`.
    """
    applied: list[str] = []
    lock_key = zlib.crc32(b"bedside.migrations")
    try:
        with engine.connect() as connection:
            if not pending_steps(connection, schema):
                return []
            with connection.begin():
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": lock_key})
            try:
                applied = apply_pending_steps(connection, schema)
            finally:
                with connection.begin():
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key})
    except OperationalError as error:
        raise ConfigError(database_unreachable(error)) from None
    except ProgrammingError as error:
        if getattr(error.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        raise ConfigError(
            f"The database role may not read or apply {schema.name}'s migrations; run "
            "`bedside db migrate` as the database owner, then grant the application role "
            "SELECT on bedside_migrations (docs/deploy.md)."
        ) from None
    return applied


def pending_steps(connection: Connection, schema: StoreSchema) -> list[str]:
    """Names of the schema's PostgreSQL steps not yet recorded (a read; creates nothing)."""
    done: set[str] = set()
    with connection.begin():
        if has_migrations_table(connection):
            rows = connection.execute(
                text("SELECT name FROM bedside_migrations WHERE migration_set = :set"),
                {"set": schema.name},
            )
            done = {row[0] for row in rows}
    return [name for name, _ in schema.postgresql if name not in done]


def apply_pending_steps(connection: Connection, schema: StoreSchema) -> list[str]:
    """Run the steps not yet recorded for this schema; return their names."""
    with connection.begin():
        connection.execute(text(PG_MIGRATIONS_TABLE))
        done = {
            row[0]
            for row in connection.execute(
                text("SELECT name FROM bedside_migrations WHERE migration_set = :set"),
                {"set": schema.name},
            )
        }
    applied = []
    for name, step in schema.postgresql:
        if name in done:
            continue
        with connection.begin():
            if callable(step):
                step(connection)
            else:
                connection.execute(text(step))
            connection.execute(
                text("INSERT INTO bedside_migrations VALUES (:set, :name, :at)"),
                {"set": schema.name, "name": name, "at": datetime.now(UTC)},
            )
        applied.append(name)
    return applied


def has_migrations_table(connection: Connection) -> bool:
    """Tell whether this PostgreSQL database has Bedside's migration table yet."""
    row = connection.execute(text("SELECT to_regclass('bedside_migrations')")).fetchone()
    return row is not None and row[0] is not None


def database_unreachable(error: OperationalError) -> str:
    """One sentence for a connection that failed (no password, no traceback)."""
    reason = str(error.orig).strip().splitlines()[0] if error.orig else "no answer"
    return f"The database could not be reached ({reason[:200]})."


def database_url(config: dict) -> DatabaseUrl:
    """The app's database: BEDSIDE_DATABASE_URL, else the SQLite file BEDSIDE_DATABASE."""
    if config.get("DATABASE_URL"):
        return parse_database_url(str(config["DATABASE_URL"]))
    return sqlite_path_url(Path(config["DATABASE"]))


def app_database(app: Flask) -> Database:
    """The database the app's shared stores use (opened once, disposed with the stores)."""
    if EXTENSION not in app.extensions:
        database = Database(database_url(app.config))
        if database.url.sqlite_path is not None:  # a folder or a text file stops the start here
            sqlite_files.check_database_file(database.url.sqlite_path)
        app.extensions[EXTENSION] = register_store(app, database)
    return app.extensions[EXTENSION]

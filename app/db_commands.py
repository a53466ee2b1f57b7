"""`bedside db migrate | check | copy | grants`: the shared database's schema, health, moves.

Every store that lives on the shared database is listed once in `STORES`; each command walks that
list, so a store added there is migrated, checked and copied with no other change. The commands
never build the app (building it would migrate every store, hiding what `check` reports): they
read only its configuration for the default URL.

`copy` moves an installation, typically a SQLite file onto a PostgreSQL server: it migrates the
target, refuses one that already holds rows, reads the source in one snapshot and writes each
table in primary-key order, in batches (bounded memory), in one transaction per table, then
compares row counts. Values pass through untouched, so text, bytes and floats arrive exactly.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import Connection, MetaData, column, func, insert, inspect, select, table, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlite_utils import Database as SqliteUtilsDatabase

from app import config
from app.case_conferences.store import CASE_CONFERENCE_SCHEMA
from app.collaboration.store import COLLABORATION_SCHEMA
from app.database import (
    POSTGRESQL,
    SQLITE,
    Database,
    DatabaseUrl,
    StoreSchema,
    database_url,
    parse_database_url,
    role_script,
    sqlite_path_url,
)
from app.db import LEDGER_SETTINGS, STORE_SETTINGS, ConnectionSettings
from app.delivery.store import DELIVERY_SCHEMA
from app.errors import ConfigError
from app.journal_clubs.store import JOURNAL_CLUB_SCHEMA
from app.learning.profile_store import LEARNING_SCHEMA
from app.ledger.badge_status import BADGES_SCHEMA
from app.ledger.schema import LEDGER_SCHEMA
from app.ledger.store import SqlLedgerStore, ledger_database
from app.ledger.verify import verify_chain
from app.outcomes.practice_store import PRACTICE_SCHEMA
from app.settings import REPO_ROOT
from app.smart import pending, sessions
from cds_hooks import store as cds_store

COPY_BATCH_ROWS = 1000
BOOKKEEPING_TABLES = {"_sqlite_migrations", "bedside_migrations", "sqlite_sequence", "sqlite_stat1"}


@dataclass(frozen=True)
class RegisteredStore:
    """A store on the shared database: its name in messages, its schema, its SQLite durability.

    `verify`, when set, checks the store's data after a copy: (ok, one-line summary).
    """

    name: str
    schema: StoreSchema
    settings: ConnectionSettings = STORE_SETTINGS
    verify: Callable[[DatabaseUrl], tuple[bool, str]] | None = None


def verify_ledger(url: DatabaseUrl) -> tuple[bool, str]:
    """Walk the copied ledger's hash chain, as `bedside ledger verify` does."""
    store = SqlLedgerStore(ledger_database(url), None, migrate=False)
    try:
        report = verify_chain(store)
    finally:
        store.close()
    return report.ok, report.summary()


# In copy order: a store's tables come after the tables they refer to (badge slots → credits).
STORES: list[RegisteredStore] = [
    RegisteredStore("ledger", LEDGER_SCHEMA, LEDGER_SETTINGS, verify=verify_ledger),
    RegisteredStore("badge status", BADGES_SCHEMA, LEDGER_SETTINGS),
    RegisteredStore("cds", cds_store.SCHEMA),
    RegisteredStore("smart sessions", sessions.SCHEMA),
    RegisteredStore("smart pending", pending.SCHEMA),
    RegisteredStore("learning", LEARNING_SCHEMA),
    RegisteredStore("practice", PRACTICE_SCHEMA),
    RegisteredStore("collaboration", COLLABORATION_SCHEMA),
    RegisteredStore("delivery", DELIVERY_SCHEMA),
    RegisteredStore("journal clubs", JOURNAL_CLUB_SCHEMA),
    RegisteredStore("case conferences", CASE_CONFERENCE_SCHEMA),
]

url_option = click.option(
    "--database-url",
    "url_text",
    metavar="URL",
    help="sqlite:///… or postgresql://… (default: the app's, BEDSIDE_DATABASE_URL "
    "else BEDSIDE_DATABASE).",
)


@click.group("db")
def db_group() -> None:
    """Work with the shared database (SQLite file or PostgreSQL server).

    \b
    Examples:
      bedside db migrate
      bedside db check --database-url postgresql://bedside@db.internal/bedside
      bedside db copy --from sqlite:///instance/bedside.db --to postgresql://bedside@db/bedside
      bedside db grants bedside_app
    """


@db_group.command("migrate")
@url_option
def migrate_command(url_text: str | None) -> None:
    """Apply every store's pending migrations (safe when several hosts run it at once).

    \b
    Examples:
      bedside db migrate
      bedside db migrate --database-url postgresql://bedside@db.internal/bedside
    """
    target = chosen_url(url_text)
    with readable_errors(target):
        for store, applied in migrate_all(target):
            click.echo(
                f"{store.name}: {'applied ' + ', '.join(applied) if applied else 'up to date'}"
            )


@db_group.command("check")
@url_option
def check_command(url_text: str | None) -> None:
    """Report connectivity, migration state per store and, on PostgreSQL, durability and privileges.

    Exits 1 when the database cannot be reached or migrations are pending.

    \b
    Examples:
      bedside db check
      bedside db check --database-url postgresql://bedside@db.internal/bedside
    """
    target = chosen_url(url_text)
    with readable_errors(target):
        for line in server_facts(target):
            click.echo(line)
        pending_count = 0
        for store, applied, waiting in migration_states(target):
            pending_count += len(waiting)
            state = f"pending {', '.join(waiting)}" if waiting else "up to date"
            click.echo(f"{store.name}: {len(applied)} applied, {state}")
    if pending_count:
        raise click.ClickException(
            f"{pending_count} migration(s) pending: run `bedside db migrate` (hosts also apply "
            "them when they start)."
        )


@db_group.command("grants")
@click.argument("role")
def grants_command(role: str) -> None:
    """Print the SQL that gives a PostgreSQL application role what every store runs, no more.

    Run the output as the tables' owner after `bedside db migrate`. Ledger evidence (credits,
    submissions, badge slots) gets SELECT and INSERT only; each object is revoked first, so the
    script can be run again after an upgrade.

    \b
    Examples:
      bedside db grants bedside_app | psql -U bedside_owner bedside
    """
    try:
        click.echo(role_script([store.schema for store in STORES], role), nl=False)
    except ValueError as error:
        raise click.ClickException(str(error)) from None


@db_group.command("copy")
@click.option("--from", "source_text", required=True, metavar="URL", help="Database to read.")
@click.option("--to", "target_text", required=True, metavar="URL", help="Empty database to fill.")
@click.option(
    "--batch-rows",
    default=COPY_BATCH_ROWS,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Rows read and written at a time.",
)
def copy_command(source_text: str, target_text: str, batch_rows: int) -> None:
    """Copy every store's rows into an empty database (migrated first), then compare row counts.

    \b
    Examples:
      bedside db copy --from sqlite:///instance/bedside.db --to postgresql://bedside@db/bedside
    """
    source, target = parsed_url(source_text, "--from"), parsed_url(target_text, "--to")
    if source.sqlalchemy_url == target.sqlalchemy_url:
        raise click.ClickException("--from and --to name the same database.")
    with readable_errors(source, target):
        for copied in copy_stores(source, target, batch_rows):
            click.echo(f"{copied.table}: {copied.rows} rows")
    click.echo(f"Copied {source.shown} to {target.shown}; row counts match.")


# --- choosing and opening databases -------------------------------------------------------------


def chosen_url(url_text: str | None) -> DatabaseUrl:
    """--database-url, else the app's database (BEDSIDE_DATABASE_URL, else BEDSIDE_DATABASE)."""
    if url_text:
        return parsed_url(url_text, "--database-url")
    try:
        return database_url(app_configuration())
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def parsed_url(url_text: str, option: str) -> DatabaseUrl:
    """Parse a URL given on the command line; a usage error in one sentence when it is wrong."""
    try:
        return parse_database_url(url_text)
    except ConfigError as error:
        raise click.ClickException(str(error).replace("BEDSIDE_DATABASE_URL", option, 1)) from None


def app_configuration() -> dict:
    """The app's layered configuration, read without building the app (which would migrate)."""
    bare = Flask("app", instance_path=str(REPO_ROOT / "instance"), instance_relative_config=True)
    config.load_config(bare, None)
    return dict(bare.config)


@contextmanager
def opened(url: DatabaseUrl, settings: ConnectionSettings = STORE_SETTINGS) -> Iterator[Database]:
    """A Database for one command step, disposed afterwards."""
    database = Database(url, settings)
    try:
        yield database
    finally:
        database.dispose()


@contextmanager
def readable_errors(*urls: DatabaseUrl) -> Iterator[None]:
    """Turn configuration and database errors into one sentence (no traceback, no password)."""
    try:
        yield
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    except OperationalError as error:
        raise click.ClickException(connection_problem(error, urls)) from None
    except (SQLAlchemyError, sqlite3.Error, OSError) as error:
        raise click.ClickException(f"The database refused the work: {first_line(error)}.") from None


def connection_problem(error: OperationalError, urls: tuple[DatabaseUrl, ...]) -> str:
    """One sentence naming the database and why it could not be used."""
    reason = first_line(error)
    lowered = reason.lower()
    if "refused" in lowered:
        why = "the connection was refused (is PostgreSQL running on that host and port?)"
    elif "authentication failed" in lowered or "password" in lowered:
        why = "authentication failed (check the user name and password)"
    elif "translate host name" in lowered or "name or service not known" in lowered:
        why = "the host name is unknown"
    elif "timeout" in lowered or "timed out" in lowered:
        why = "the server did not answer in time"
    elif "FATAL:" in reason:  # the server's own refusal: no such database or role, no access
        why = "the server says " + reason.split("FATAL:", 1)[1].strip()
    else:
        why = reason
    where = " or ".join(url.shown for url in urls)
    return f"Cannot use {where}: {why}."


def first_line(error: Exception) -> str:
    """The driver's first line for an error (no SQL, no parameters)."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0].strip().rstrip(".") if lines else type(original).__name__


def probe(url: DatabaseUrl) -> None:
    """Connect once, so an unreachable server is reported here (OperationalError), not mid-way."""
    if url.dialect != POSTGRESQL:
        return
    try:
        with opened(url) as database, database.read() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        raise click.ClickException(connection_problem(error, (url,))) from None


# --- migrate and check ----------------------------------------------------------------------------


def migrate_all(url: DatabaseUrl) -> list[tuple[RegisteredStore, list[str]]]:
    """Apply each store's pending migrations; return what each applied."""
    probe(url)
    results = []
    for store in STORES:
        with opened(url, store.settings) as database:
            results.append((store, database.migrate(store.schema)))
    return results


def migration_states(url: DatabaseUrl) -> list[tuple[RegisteredStore, list[str], list[str]]]:
    """For each store: the migrations applied and those still pending, by name."""
    states = []
    for store in STORES:
        if url.dialect == SQLITE and not url.sqlite_path.exists():
            applied: list[str] = []  # no file yet: `check` must not create one
        else:
            with opened(url, store.settings) as database:
                applied = database.applied(store.schema)
        waiting = [
            name for name in migration_names(store.schema, url.dialect) if name not in applied
        ]
        states.append((store, applied, waiting))
    return states


def migration_names(schema: StoreSchema, dialect: str) -> list[str]:
    """Every migration of the schema for this engine, in order."""
    if dialect == POSTGRESQL:
        return [name for name, _step in schema.postgresql]
    return [migration.name for migration in schema.sqlite.pending(SqliteUtilsDatabase(memory=True))]


def server_facts(url: DatabaseUrl) -> list[str]:
    """What the operator should know about the server; raises when it cannot be reached."""
    if url.dialect == SQLITE:
        path = url.sqlite_path
        if not path.exists():
            return [f"database: SQLite file {path}, not created yet (hosts create it at start)"]
        with opened(url) as database, database.read() as connection:
            mode = connection.execute(text("PRAGMA journal_mode")).scalar()
        return [f"database: SQLite file {path}, journal mode {mode}"]
    with opened(url, LEDGER_SETTINGS) as database, database.read() as connection:
        return [f"database: {url.shown} (reachable)", *postgresql_facts(connection)]


def postgresql_facts(connection: Connection) -> list[str]:
    """Server version, synchronous_commit (as the ledger gets it) and the role's rights."""
    version = connection.execute(text("SHOW server_version")).scalar()
    synchronous = connection.execute(text("SHOW synchronous_commit")).scalar()
    role = connection.execute(
        text(
            "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb,"
            " COALESCE(has_schema_privilege(current_schema(), 'CREATE'), false),"
            " current_schema()"
            " FROM pg_roles WHERE rolname = current_user"
        )
    ).one()
    name, superuser, create_role, create_db, create_tables, schema = role
    durability = (
        "on" if synchronous == "on" else f"{synchronous} (acknowledged commits can be lost; use on)"
    )
    return [
        f"PostgreSQL {version}",
        f"synchronous_commit: {durability}",
        f"role {name}: superuser {yes_no(superuser)}, can create tables in schema "
        f"{schema or '(none)'} {yes_no(create_tables)}, can create roles {yes_no(create_role)}, "
        f"can create databases {yes_no(create_db)}",
    ]


def yes_no(flag: bool) -> str:
    """'yes' or 'no'."""
    return "yes" if flag else "no"


# --- copy -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CopiedTable:
    """One table copied: its name and the rows it now holds on both sides."""

    table: str
    rows: int


class CopyRefused(click.ClickException):
    """The copy cannot start or did not verify (one sentence)."""


def copy_stores(source: DatabaseUrl, target: DatabaseUrl, batch_rows: int) -> list[CopiedTable]:
    """Copy every store's tables; CopyRefused when the target holds rows or counts differ."""
    refuse_missing_source(source)
    probe(source)
    probe(target)
    present = stores_in_source(source)
    migrate_all(target)
    tables = {store.name: store_tables(store) for store in present}
    refuse_filled_target(target, [name for names in tables.values() for name in names])
    copied = []
    with opened(source) as reader, reader.read() as source_connection:
        snapshot = source_snapshot(source_connection)
        for store in present:
            with opened(target, store.settings) as writer:
                for name in ordered_tables(writer, tables[store.name]):
                    copied.append(copy_table(snapshot, writer, name, batch_rows))
            verify_copy(store, target)
    return copied


def verify_copy(store: RegisteredStore, target: DatabaseUrl) -> None:
    """Run the store's own check on the copy (the ledger: its hash chain); CopyRefused if bad."""
    if store.verify is None:
        return
    ok, summary = store.verify(target)
    if not ok:
        raise CopyRefused(f"The copied {store.name} does not verify: {summary}")
    click.echo(f"{store.name}: {summary}")


def refuse_missing_source(source: DatabaseUrl) -> None:
    """A SQLite source must exist (opening it would create an empty file)."""
    if source.dialect == SQLITE and not source.sqlite_path.exists():
        raise CopyRefused(f"There is no SQLite file at {source.sqlite_path} to copy from.")


def stores_in_source(source: DatabaseUrl) -> list[RegisteredStore]:
    """The stores the source holds, each fully migrated (so its tables have the target's columns).

    A store with no migration applied was never used there: it has no tables and nothing to copy.
    """
    present, behind = [], []
    for store, applied, waiting in migration_states(source):
        if applied and waiting:
            behind.append(f"{store.name}: {', '.join(waiting)}")
        elif applied:
            present.append(store)
    if behind:
        raise CopyRefused(
            f"The source has migrations pending ({'; '.join(behind)}); run "
            "`bedside db migrate --database-url` on it first."
        )
    return present


def refuse_filled_target(target: DatabaseUrl, names: list[str]) -> None:
    """Copy only into an empty database: rows already there would mix two installations."""
    with opened(target) as database, database.read() as connection:
        filled = [
            name
            for name in names
            if connection.execute(select(1).select_from(table(name)).limit(1)).first()
        ]
    if filled:
        raise CopyRefused(
            f"The target {target.shown} already holds rows ({', '.join(filled)}); "
            "copy only into an empty database."
        )


def store_tables(store: RegisteredStore) -> list[str]:
    """The tables the store's migrations create, found by migrating a scratch SQLite file."""
    with tempfile.TemporaryDirectory(prefix="bedside-tables-") as folder:
        scratch_url = sqlite_path_url(Path(folder) / "scratch.db")
        with opened(scratch_url, store.settings) as scratch:
            scratch.migrate(store.schema)
            names = inspect(scratch.engine).get_table_names()
    return [name for name in names if name not in BOOKKEEPING_TABLES]


def source_snapshot(connection: Connection) -> Connection:
    """Read every table from one snapshot (PostgreSQL: repeatable read; SQLite: one transaction)."""
    if connection.dialect.name == POSTGRESQL:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
    connection.begin()
    return connection


def ordered_tables(database: Database, names: list[str]) -> list[str]:
    """The tables in an order that satisfies their foreign keys (parents first).

    Reflecting a table also reflects the tables its foreign keys name (another store's, such as
    the ledger's learners for the badge status list): only the tables asked for are returned.
    """
    metadata = MetaData()
    metadata.reflect(bind=database.engine, only=names)
    wanted = set(names)
    return [reflected.name for reflected in metadata.sorted_tables if reflected.name in wanted]


def copy_table(source: Connection, target: Database, name: str, batch_rows: int) -> CopiedTable:
    """Copy one table in primary-key order, in batches, in one target transaction; check counts."""
    metadata = MetaData()
    metadata.reflect(bind=target.engine, only=[name])
    destination = metadata.tables[name]
    names = [col.name for col in destination.columns]
    order = [col.name for col in destination.primary_key.columns] or names
    plain = table(name, *(column(col) for col in names))  # untyped: values pass through as read
    rows = source.execution_options(yield_per=batch_rows).execute(
        select(plain).order_by(*(plain.c[col] for col in order))
    )
    with target.write() as connection:
        for batch in rows.partitions():
            values = [dict(zip(names, row, strict=True)) for row in batch]
            connection.execute(insert(destination), values)
        restart_identities(connection, destination)
    source_rows = source.execute(select(func.count()).select_from(table(name))).scalar_one()
    with target.read() as connection:
        target_rows = connection.execute(select(func.count()).select_from(table(name))).scalar_one()
    if source_rows != target_rows:
        raise CopyRefused(
            f"Row counts differ after copying {name} (source {source_rows}, target {target_rows})."
        )
    return CopiedTable(name, target_rows)


def restart_identities(connection: Connection, copied) -> None:
    """PostgreSQL: move each identity sequence past the copied ids, so new rows do not collide."""
    if connection.dialect.name != POSTGRESQL:
        return  # SQLite picks max(rowid) + 1 by itself
    for col in copied.columns:
        sequence = connection.execute(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": copied.name, "column": col.name},
        ).scalar()
        if sequence:
            highest = connection.execute(select(func.max(copied.c[col.name]))).scalar()
            connection.execute(
                text("SELECT setval(:sequence, :value, :called)"),
                {"sequence": sequence, "value": highest or 1, "called": highest is not None},
            )

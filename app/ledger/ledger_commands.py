"""`bedside ledger init | verify | checkpoint | stats | export | verify-badge | reverse`.

The database is `--database PATH`, else the app's DATABASE setting (so `verify` still works on a
copied file, or when the app's configuration is broken). For `export`, titles, the base URL, the
accreditation wording and the badge key come from the app when its database exists (building it
then creates nothing); otherwise from the configuration layers, the content library and the
instance folder, read without building the app. With --database and a broken configuration, csv
and pars still work (titles fall back to activity keys).

Read commands (verify, stats, export) never create or migrate a database: they read the DATABASE
setting from the configuration layers without building the app (whose stores would create the
file), wait at most READ_BUSY_SECONDS for a lock, and say in one sentence when the file is
missing, busy or damaged (exit 2, 3 and 1). A file in a folder they cannot write opens read-only
(app/db.py: read_only_uri), so an archived read-only copy verifies. One exception:
`export --format badge` writes each new badge's revocation slot (app/ledger/badge_status.py) into
the ledger, once per credit record. `reverse` appends one reversal to an existing ledger.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import os
import secrets
import sqlite3
import sys
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import click
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy.exc import DBAPIError, OperationalError

from app import config
from app.cli_output import writing
from app.config import is_http_url
from app.database import (
    Database,
    DatabaseUrl,
    database_unreachable,
    parse_database_url,
    sqlite_path_url,
)
from app.db import LEDGER_SETTINGS, ConnectionSettings, opening, read_only_uri
from app.db import applied_migrations as applied_migration_names
from app.errors import ConfigError
from app.ledger.chain import CreditRecord, from_hundredths
from app.ledger.checkpoints import (
    PUBLIC_KEY_FILE,
    CheckpointError,
    checkpoint_key,
    checkpoint_problem,
    public_keys,
    read_checkpoint,
    sign_checkpoint,
)
from app.ledger.models import AlreadyReversed, LedgerError
from app.ledger.outputs import records as shared
from app.ledger.outputs import status_list, xapi
from app.ledger.outputs.badges import (
    JWKS_FILE,
    KEY_FILE,
    issuer_for,
    issuer_id,
    issuer_jwks,
    verify_badge,
    write_jwks,
)
from app.ledger.outputs.exporting import FORMATS, ExportContext, export
from app.ledger.outputs.settings import output_settings
from app.ledger.privacy import check_text
from app.ledger.schema import LEDGER_SCHEMA, m001_core_tables, migrations
from app.ledger.store import SqlLedgerStore, apply_migrations, ledger_database
from app.ledger.verify import VerifyReport, database_problem, is_busy, reason, verify_chain
from app.library.loader import LibraryError, load_library
from app.settings import ENV_PREFIX, REPO_ROOT, SETTINGS_BY_NAME

DATABASE_OPTION = click.option(
    "--database",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite ledger file (default: the app's BEDSIDE_DATABASE).",
)
PROGRESS_THRESHOLD = 1_000
# A command waits this long for another process's lock, then says the ledger is busy (WAL readers
# wait only while a process holds the file exclusively, e.g. during a restore).
READ_BUSY_SECONDS = 2.0
WRITE_SETTINGS = dataclasses.replace(LEDGER_SETTINGS, busy_timeout=READ_BUSY_SECONDS)
READ_SETTINGS = dataclasses.replace(WRITE_SETTINGS, read_only=True)
# What SQLite says when it may not make the -wal or -shm file, or write the database.
CANNOT_WRITE = {sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY}
INSTANCE_FOLDER = REPO_ROOT / "instance"  # the app's (create_app's default), read without it


@click.command("init")
@DATABASE_OPTION
def init(database: Path | None) -> None:
    """Create the ledger tables, or bring them up to date (safe to repeat).

    \b
    Examples:
      bedside ledger init
      bedside ledger init --database instance/bedside.db
    """
    path = database_path(database)
    if isinstance(path, DatabaseUrl):  # BEDSIDE_DATABASE_URL names a server
        ledger = ledger_database(path)
        try:
            applied, path = ledger.migrate(LEDGER_SCHEMA), path.shown
        finally:
            ledger.dispose()
    else:
        try:
            with opening(path):  # a file that is not a database: one sentence
                applied = apply_migrations(path)
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
    if applied:
        click.echo(f"Ledger at {path}: applied {', '.join(applied)}.")
    else:
        click.echo(f"Ledger at {path} is up to date.")


@click.command("verify")
@DATABASE_OPTION
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A checkpoint from `bedside ledger checkpoint`: fail on truncation or re-sealing since.",
)
@click.option(
    "--checkpoint-key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"The checkpoints' public JWKS (default: {PUBLIC_KEY_FILE} next to the checkpoint).",
)
def verify(database: Path | None, checkpoint: Path | None, checkpoint_key: Path | None) -> None:
    """Check the file (SQLite integrity, foreign keys), then the whole credit hash chain.

    With --checkpoint, also check the chain still reaches the checkpoint's record with the same
    hash: a chain cut short or re-sealed after the checkpoint fails, though it links up.
    Exit status: 0 intact, 1 the file, a record or the checkpoint fails, 2 no ledger at that
    path (or an unreadable checkpoint), 3 the ledger is busy (locked by another process).
    Keep the printed head hash, or better a signed checkpoint, somewhere else: a later run that
    shows the same head proves nothing before it was rewritten.

    \b
    Examples:
      bedside ledger verify
      bedside ledger verify --database /backups/bedside-2026-03-01.db
      bedside ledger verify --checkpoint audit/2026-03.jws --checkpoint-key audit/key.json
    """
    signed = read_checkpoint_file(checkpoint, checkpoint_key) if checkpoint else None
    path = ledger_path(database)
    store = existing_ledger(path)
    try:
        with reading(path):
            report = verified(store)
            departure = checkpoint_problem(signed, store) if signed and report.ok else None
    finally:
        store.close()
    click.echo(report.summary())
    if not report.ok:
        click.get_current_context().exit(1)
    click.echo(f"Head: #{report.checked} {report.head_hash}")
    if signed is not None:
        outcome = f"fails: {departure}" if departure else "matches"
        click.echo(f"Checkpoint #{signed.sequence} of {signed.time} {outcome}.")
    click.get_current_context().exit(1 if departure else 0)


def verified(store: SqlLedgerStore) -> VerifyReport:
    """Run SQLite's checks of the file, then walk the chain."""
    problem = database_problem(store.database)
    if problem:
        return VerifyReport(False, 0, "", (0, problem))
    return verify_chain(store)


def read_checkpoint_file(file: Path, jwks_file: Path | None):
    """Read a signed checkpoint and check its signature; one sentence when it cannot be used."""
    token = read_tokens(file, "checkpoint")[0]
    keys = read_jwks(jwks_file or file.parent / PUBLIC_KEY_FILE, "--checkpoint-key")
    try:
        return read_checkpoint(token, keys)
    except CheckpointError as error:
        click.echo(f"Checkpoint {file} fails: {error}.")
        click.get_current_context().exit(1)


@click.command("checkpoint")
@DATABASE_OPTION
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=Path("-"),
    help=f"File to write (default: standard output); {PUBLIC_KEY_FILE} goes next to it.",
)
@click.option(
    "--public-key", is_flag=True, help="Write the checkpoints' public JWKS instead of signing."
)
def checkpoint_command(database: Path | None, output: Path, public_key: bool) -> None:
    """Sign the verified chain's head (sequence, hash, time) as a JWS for auditors to keep.

    The signing key is made once in the instance folder (ledger_checkpoint_key.json, mode 0600);
    auditors keep the checkpoint and the public key outside the database, and later run
    `bedside ledger verify --checkpoint FILE`. A chain that fails verification is not signed
    (exit 1).

    \b
    Examples:
      bedside ledger checkpoint -o audit/2026-03.jws
      bedside ledger checkpoint --public-key -o audit/key.json
    """
    if public_key:
        write_output(output, json.dumps(public_keys(signing_key()), indent=2) + "\n")
        return
    path = ledger_path(database)
    store = existing_ledger(path)
    try:
        with reading(path):
            report = verified(store)
    finally:
        store.close()
    if not report.ok:
        raise DamagedLedger(f"Not signed: {report.summary()}")
    key = signing_key()
    write_output(output, sign_checkpoint((report.checked, report.head_hash), key, now()) + "\n")
    if str(output) != "-":
        target = output.parent / PUBLIC_KEY_FILE
        with writing(target):
            write_jwks(target, public_keys(key))
        click.echo(f"Checkpoint public key (JWKS): {target}", err=True)


def signing_key():
    """Return the checkpoint key of the app's instance folder (the repo's when no app loads)."""
    app = load_app()
    return checkpoint_key(app.instance_path if app is not None else INSTANCE_FOLDER)


def now() -> datetime:
    """Return the current UTC time."""
    return datetime.now(UTC)


@click.command("stats")
@DATABASE_OPTION
def stats(database: Path | None) -> None:
    """Count records, reversals and learners, and total the net credit per credit type.

    \b
    Examples:
      bedside ledger stats
    """
    path = ledger_path(database)
    store = existing_ledger(path)
    try:
        with reading(path):
            kinds, totals, learners = count_chain(store)
    finally:
        store.close()
    click.echo(
        f"{plural(kinds['credit'], 'credit record')}, {plural(kinds['reversal'], 'reversal')}, "
        f"{plural(learners, 'learner')} with credit"
    )
    for credit_type, hundredths in sorted(totals.items()):
        click.echo(f"  {credit_type}: {from_hundredths(hundredths)}")


def count_chain(store: SqlLedgerStore) -> tuple[Counter[str], dict[str, int], int]:
    """Count records by kind, total hundredths by credit type, and count distinct learners."""
    kinds: Counter[str] = Counter()
    totals: dict[str, int] = {}
    learners: set[str] = set()
    for record in store.iter_chain():
        kinds[record.kind] += 1
        totals[record.credit_type] = totals.get(record.credit_type, 0) + record.amount_hundredths
        learners.add(record.learner_id)
    return kinds, totals, len(learners)


def plural(count: int, noun: str) -> str:
    """Say '1 record' or '2 records'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


@click.command("reverse")
@DATABASE_OPTION
@click.option(
    "--record",
    "sequence",
    type=click.IntRange(min=1),
    required=True,
    help="Sequence number of the credit record to cancel (as `export --format csv` lists it).",
)
@click.option(
    "--reason", required=True, help="Why it is cancelled; kept in the ledger (no patient data)."
)
def reverse(database: Path | None, sequence: int, reason: str) -> None:
    """Cancel wrongly granted credit: append a reversal of one credit record (nothing is edited).

    The reversal carries the record's amounts negated and the reason; from then on the learner's
    transcript no longer counts the credit and its badge, if exported, shows as revoked. A record
    that does not exist, is itself a reversal or was already reversed is refused (exit 1).

    \b
    Examples:
      bedside ledger reverse --record 42 --reason "granted for the wrong module version"
      bedside ledger reverse --database instance/bedside.db --record 7 --reason "duplicate"
    """
    reason = checked_reason(reason)
    path = ledger_path(database)
    # A reversal makes no learner id: its idempotency key, used once, is hashed with a key used
    # once, so the command needs no identity key of the instance.
    store = existing_ledger(path, WRITE_SETTINGS, identity_key=secrets.token_bytes(32))
    try:
        with reading(path):
            appended = append_reversal(store, sequence, reason)
    finally:
        store.close()
    click.echo(
        f"Appended record #{appended.sequence}: the reversal of record #{sequence} "
        f"({from_hundredths(appended.amount_hundredths)} {appended.credit_type}), "
        f"reason: {reason}"
    )


def checked_reason(reason: str) -> str:
    """Return the reason trimmed; one sentence when it is empty or holds patient data."""
    reason = reason.strip()
    if not reason:
        raise UsageProblem("Give a --reason: it is kept in the ledger with the reversal.")
    try:
        check_text(reason, "--reason")
    except LedgerError as error:
        raise UsageProblem(str(error)) from None
    return reason


def append_reversal(store: SqlLedgerStore, sequence: int, reason: str) -> CreditRecord:
    """Append the reversal of one credit record; one sentence when it cannot be reversed."""
    record = record_at(store, sequence)
    if record is None:
        raise click.ClickException(f"There is no record #{sequence} in the ledger.")
    if record.kind == "reversal":
        raise click.ClickException(
            f"Record #{sequence} is itself a reversal (of record #{record.reverses}); "
            "only a credit record can be reversed."
        )
    try:
        submission = store.append_reversal(sequence, reason, str(uuid.uuid4()))
    except AlreadyReversed:
        raise click.ClickException(f"Record #{sequence} was already reversed.") from None
    return submission.records[0]


def record_at(store: SqlLedgerStore, sequence: int) -> CreditRecord | None:
    """Return the record with this sequence number (None when the chain has none)."""
    with closing(store.iter_chain(after=sequence - 1)) as chain:
        record = next(chain, None)
    return record if record is not None and record.sequence == sequence else None


class NoLedger(click.ClickException):
    """There is no ledger at the given path (exit status 2)."""

    exit_code = 2


def database_path(database: Path | None) -> Path | DatabaseUrl:
    """Return --database, or the database of the app `bedside` loads (its file or server URL)."""
    if database is not None:
        return database
    info = click.get_current_context().find_object(ScriptInfo)
    if info is None:
        raise click.UsageError("Give --database PATH (no Bedside app to read it from).")
    app_config = info.load_app().config
    if app_config.get("DATABASE_URL"):
        return parse_database_url(str(app_config["DATABASE_URL"]))
    return Path(app_config["DATABASE"])


def ledger_path(database: Path | None) -> DatabaseUrl:
    """Return --database, else DATABASE_URL, else the DATABASE file, read without the app."""
    if database is not None:
        return sqlite_path_url(database)
    try:
        server = configured_setting("DATABASE_URL")
        if server:
            return parse_database_url(str(server))
        return sqlite_path_url(configured_setting("DATABASE"))
    except ConfigError as error:
        raise UsageProblem(str(error)) from None


def configured_setting(name: str) -> object:
    """Read a setting from the environment, else the instance file, else its default.

    Building the app would open its stores, and they create a missing database file.
    """
    setting = SETTINGS_BY_NAME[name]
    variable = ENV_PREFIX + setting.name
    if variable in os.environ:
        return config.coerce(setting, os.environ[variable])
    instance = config.read_instance_file(INSTANCE_FOLDER / config.INSTANCE_FILE)
    return config.coerce(setting, instance.get(setting.name))


def existing_ledger(
    where: DatabaseUrl,
    settings: ConnectionSettings = READ_SETTINGS,
    identity_key: bytes | None = None,
) -> SqlLedgerStore:
    """Open an existing, migrated ledger without migrating it; exit 2 when there is none.

    With READ_SETTINGS it is opened to read (read-only in a folder Bedside may not write), with
    WRITE_SETTINGS to append.
    """
    path = where.sqlite_path
    if path is not None and not path.is_file():
        raise NoLedger(f"No ledger database at {path}.")
    database = Database(opened_url(where, settings), settings)
    try:
        with reading(where):
            applied = ledger_migrations_applied(database)
    except BaseException:
        database.dispose()
        raise
    if m001_core_tables.__name__ not in applied:
        database.dispose()
        raise NoLedger(f"{place(where)} has no ledger tables; run `bedside ledger init`.")
    return SqlLedgerStore(database, identity_key=identity_key, migrate=False)


def opened_url(where: DatabaseUrl, settings: ConnectionSettings) -> DatabaseUrl:
    """Return the URL to open: a reader's SQLite file in a folder it cannot write, read-only."""
    uri = read_only_uri(where.sqlite_path) if settings.read_only and where.sqlite_path else None
    if uri is None:
        return where
    # SQLAlchemy unquotes the database part once: quoted again, the URI reaches SQLite whole.
    return dataclasses.replace(where, sqlalchemy_url=f"sqlite+pysqlite:///{quote(uri)}?uri=true")


def ledger_migrations_applied(database: Database) -> list[str]:
    """Return the ledger migrations applied (a SQLite file is read as before, without writing)."""
    if database.url.sqlite_path is not None:
        return applied_migration_names(database.url.sqlite_path, migrations, database.settings)
    try:
        return database.applied(LEDGER_SCHEMA)
    except OperationalError as error:
        raise UsageProblem(database_unreachable(error)) from None


def place(where: DatabaseUrl) -> str:
    """Name the ledger's database in messages: the file's path, or the URL without password."""
    return str(where.sqlite_path) if where.sqlite_path is not None else where.shown


class LedgerBusy(click.ClickException):
    """Another process holds the ledger locked (exit status 3)."""

    exit_code = 3


class DamagedLedger(click.ClickException):
    """SQLite cannot read the ledger file (exit status 1)."""

    exit_code = 1


@contextmanager
def reading(where: DatabaseUrl) -> Iterator[None]:
    """Turn database errors met while using the ledger into one-sentence CLI errors."""
    path, kind = place(where), "file" if where.sqlite_path is not None else "database"
    try:
        yield
    except (sqlite3.DatabaseError, DBAPIError) as error:
        if is_busy(error):
            raise LedgerBusy(
                f"The ledger at {path} is busy: another process has held it locked for "
                f"{READ_BUSY_SECONDS:g} s; try again when that process is done."
            ) from None
        if sqlite_code(error) in CANNOT_WRITE and in_unwritable_folder(where):
            raise click.ClickException(
                f"The ledger at {path} cannot be used where it is ({reason(error)}): its folder "
                "is not writable; make it writable, or copy the ledger (with its -wal file, if "
                "any) to a folder that is."
            ) from None
        if sqlite_code(error) == sqlite3.SQLITE_READONLY:
            raise click.ClickException(
                f"The ledger at {path} is read-only here ({reason(error)}): this command writes "
                "to it, so run it where the file and its folder may be written."
            ) from None
        raise DamagedLedger(
            f"The ledger at {path} cannot be read ({reason(error)}): the {kind} is damaged or is "
            "not a Bedside database."
        ) from None


def in_unwritable_folder(where: DatabaseUrl) -> bool:
    """Tell whether the ledger is a SQLite file in a folder Bedside may not write."""
    return where.sqlite_path is not None and read_only_uri(where.sqlite_path) is not None


def sqlite_code(error: Exception) -> int | None:
    """Return SQLite's primary result code for a database error (None when it gave none)."""
    code = getattr(getattr(error, "orig", None) or error, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


class UsageProblem(click.ClickException):
    """A problem with what was asked (missing file, no JWKS): exit status 2."""

    exit_code = 2


@click.command("export")
@click.option(
    "--format", "format_", type=click.Choice(FORMATS), required=True, help="Export format."
)
@click.option("--learner", default=None, help="Only this learner id (default: every learner).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day (UTC), inclusive.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day (UTC), inclusive.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=Path("-"),
    help="File to write (default: standard output).",
)
@click.option("--ndjson", is_flag=True, help="xapi: one statement per line instead of an array.")
@click.option(
    "--xapi-version",
    default=xapi.XAPI_VERSION,
    show_default=True,
    callback=lambda _context, _param, value: xapi_version(value),
    help="xapi: 1.0.3 (older LRSs) or 2.0.0 (IEEE 9274.1.1-2023).",
)
@click.option(
    "--aggregate-poc/--separate-poc",
    default=True,
    show_default=True,
    help="pars: sum point-of-care cycles into one activity per learner and period.",
)
@click.option(
    "--base-url",
    default=None,
    callback=lambda _context, _param, value: base_url(value),
    help="Public http(s) URL (default: BEDSIDE_PUBLIC_BASE_URL).",
)
@click.option("--language", type=click.Choice(shared.LANGUAGES), default="en", show_default=True)
@DATABASE_OPTION
def export_command(**options) -> None:
    """Export credit records as CSV, xAPI 1.0.3 or 2.0.0, an ACCME PARS batch or Open Badges 3.0.

    \b
    csv    every record (credits and reversals), one row each, with sequence and hash
    xapi   xAPI statements (JSON array), actors as opaque accounts; 1.0.3 unless
           --xapi-version 2.0.0
    pars   tab-delimited PARS learner completions of consenting learners with a board or
           licence ID and a month/day of birth (the others are counted as skipped)
    badge  one signed OB 3.0 VC-JWT per standing credit, one per line; the issuer's
           public JWKS goes next to --output as issuer-jwks.json
    A progress bar shows on a terminal when more than 1,000 records are read.

    \b
    Examples:
      bedside ledger export --format csv --output credits.csv
      bedside ledger export --format pars --since 2026-01-01 --until 2026-03-31 -o q1.txt
      bedside ledger export --format xapi --learner 3f9c… --ndjson
      bedside ledger export --format xapi --xapi-version 2.0.0 -o statements.json
      bedside ledger export --format badge --output badges/2026.jwt
    """
    try:
        run_export(**options)
    except (LedgerError, ConfigError, ValueError, OSError) as error:
        raise click.ClickException(str(error)) from None


def run_export(format_: str, output: Path, database: Path | None, **options) -> None:
    """Select the records, build the export and write it (and the JWKS for badges)."""
    path = ledger_path(database)
    store = existing_ledger(path)  # before the app loads: its stores would create the file
    source = export_source()
    if format_ == "badge" and source.instance_path is None:
        raise click.ClickException(
            f"Badges are signed with the instance's issuer key and there is none at "
            f"{INSTANCE_FOLDER / KEY_FILE}: export badges where Bedside runs (this command "
            "makes no key)."
        )
    try:
        with reading(path):
            window = window_from(options["since"], options["until"])
            records = select_records(store, window, options["learner"])
            context = export_context(store, source, options["base_url"], options["language"])
            result = export(
                format_,
                records,
                context,
                ndjson=options["ndjson"],
                aggregate_poc=options["aggregate_poc"],
                xapi_version=options["xapi_version"],
            )
    finally:
        store.close()
    write_output(output, result.text)
    if result.jwks is not None:
        target = jwks_path(output, source.instance_path)
        with writing(target):
            write_jwks(target, result.jwks)
        click.echo(f"Issuer public keys (JWKS): {target}", err=True)
    if result.note:
        click.echo(result.note, err=True)


def xapi_version(value: str) -> str:
    """Accept a supported xAPI version; say which ones are in one sentence otherwise (exit 2)."""
    try:
        return xapi.check_version(value)
    except ValueError as error:
        raise UsageProblem(str(error)) from None


def base_url(value: str | None) -> str | None:
    """Accept an absolute http(s) URL before anything is signed or written (exit 2 otherwise)."""
    if value is None:
        return None
    if not is_http_url(value.strip()):
        raise UsageProblem(f"--base-url must be an absolute http(s) URL, not {value!r}.")
    return value.strip()


def load_app() -> Flask | None:
    """Return the Bedside app when one can be loaded, else None."""
    info = click.get_current_context().find_object(ScriptInfo)
    if info is None:
        return None
    try:
        return info.load_app()
    except Exception:  # a broken app must not stop an export from a --database copy
        return None


@dataclasses.dataclass(frozen=True)
class ExportSource:
    """What an export reads from the instance: settings, library modules, folder (for keys)."""

    config: Mapping[str, object]
    modules: dict[str, dict]
    instance_path: Path | None


def export_source() -> ExportSource:
    """Read the app's settings, titles and folder; without building it when it has no database.

    Building the app creates its database, key files and instance folder: an export from a
    --database copy on a machine with no instance leaves none of them behind, and signs badges
    only with an issuer key already in the instance folder.
    """
    if click.get_current_context().find_object(ScriptInfo) is None:
        return ExportSource({}, {}, None)  # not run by `bedside`: no instance to read
    app = load_app() if app_database_exists() else None
    if app is not None:
        return ExportSource(app.config, library_modules(app), Path(app.instance_path))
    settings = configured_settings()
    has_key = (INSTANCE_FOLDER / KEY_FILE).is_file()
    folder = INSTANCE_FOLDER if has_key else None
    return ExportSource(settings, library_in(settings.get("CONTENT_DIR")), folder)


def app_database_exists() -> bool:
    """Tell whether the app's database is there: a PostgreSQL URL, or an existing SQLite file."""
    try:
        return (
            bool(configured_setting("DATABASE_URL"))
            or Path(str(configured_setting("DATABASE"))).is_file()
        )
    except ConfigError:
        return False


def configured_settings() -> dict[str, object]:
    """Read every setting from the configuration layers, leaving out those that cannot be read."""
    found = {}
    for name in SETTINGS_BY_NAME:
        try:
            found[name] = configured_setting(name)
        except ConfigError:
            continue
    return found


def library_in(content_dir: object) -> dict[str, dict]:
    """Return the content library's modules by id (none when it cannot be loaded)."""
    if content_dir is None:
        return {}
    try:
        return dict(load_library(Path(str(content_dir))).modules)
    except (LibraryError, OSError):
        return {}


def window_from(since: datetime | None, until: datetime | None) -> shared.Window:
    """Turn inclusive --since/--until days into a UTC [start, end) window."""
    start = shared.day_start(since.date()) if since else None
    end = shared.day_end(until.date()) if until else None  # 9999-12-31: no end, as no --until
    if start and end and end <= start:
        raise ValueError("--until is before --since.")
    return shared.Window(start, end)


def select_records(
    store: SqlLedgerStore, window: shared.Window, learner: str | None
) -> list[CreditRecord]:
    """Read the records of the window (and learner), with a progress bar on long reads."""
    if learner:
        return store.credits_for(learner, window.start, window.end)
    total = store.referenced_head()
    chain = store.iter_chain()
    if total <= PROGRESS_THRESHOLD or not sys.stderr.isatty():
        return list(shared.select(chain, window))
    with click.progressbar(chain, length=total, label="Reading the ledger", file=sys.stderr) as bar:
        return list(shared.select(bar, window))


def export_context(
    store: SqlLedgerStore, source: ExportSource, base_url: str | None, language: str
) -> ExportContext:
    """Gather settings, library titles and the instance folder the export reads."""
    return ExportContext(
        store=store,
        settings=output_settings(source.config, base_url),
        modules=source.modules,
        instance_path=source.instance_path,
        language=language,
        database=store.database,
    )


def library_modules(app: Flask | None) -> dict[str, dict]:
    """Return the app's content modules by id (empty without an app)."""
    runtime = app.extensions.get("cds") if app is not None else None
    return dict(runtime.engine.library.modules) if runtime is not None else {}


def write_output(output: Path, text: str) -> None:
    """Write the export to the file, or to standard output for `-`."""
    if str(output) == "-":
        click.echo(text, nl=False)
    else:
        with writing(output):
            output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}", err=True)


def jwks_path(output: Path, instance_path: Path | None) -> Path:
    """Return where the issuer JWKS goes: next to the output, else in the instance folder."""
    if str(output) != "-":
        return output.parent / JWKS_FILE
    if instance_path is not None:
        return instance_path / JWKS_FILE
    return Path(JWKS_FILE)


@click.command("verify-badge")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--jwks",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Issuer public keys (default: {JWKS_FILE} next to FILE).",
)
@click.option(
    "--status-list",
    "status_list_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Signed status list(s) to check revocation against, offline (instead of fetching).",
)
def verify_badge_command(file: Path, jwks: Path | None, status_list_file: Path | None) -> None:
    """Check Open Badges 3.0 VC-JWTs: signature, issuer, dates, fields, then revocation.

    FILE holds one compact JWS per line (as `export --format badge` writes). A badge with a
    `credentialStatus` is checked against its signed Bitstring Status List: the one in
    --status-list FILE when given (offline), else this instance's own list read from its ledger
    when the URL is this instance's, else the list fetched from its URL. The list must be signed
    by the same issuer (keys from the JWKS; this instance's own lists also with the keys it
    publishes now, which an older JWKS file may lack). Badges issued before revocation lists
    say "no revocation status" and stay valid. Prints one line per badge. Exit status: 0 every badge
    valid and not revoked, 1 a badge is invalid, revoked or its status cannot be checked, 2 a
    file cannot be read.

    \b
    Examples:
      bedside ledger verify-badge badges/2026.jwt
      bedside ledger verify-badge badge.jwt --jwks issuer-jwks.json
      bedside ledger verify-badge badge.jwt --status-list status-1.jwt
    """
    tokens = read_tokens(file, "badge")
    keys = read_jwks(jwks or file.parent / JWKS_FILE, "--jwks")
    offline = read_tokens(status_list_file, "status list") if status_list_file else None
    lists = StatusLists(offline, keys)
    verdicts = [badge_verdict(token, keys, lists) for token in tokens]
    for number, (_, line) in enumerate(verdicts, 1):
        prefix = f"Badge {number}: " if len(verdicts) > 1 else ""
        click.echo(prefix + line)
    click.get_current_context().exit(0 if all(ok for ok, _ in verdicts) else 1)


def badge_verdict(token: str, keys: dict, lists: StatusLists) -> tuple[bool, str]:
    """Verify one badge, then its revocation status; return whether it holds, and one line."""
    report = verify_badge(token, keys)
    if not report.ok:
        return False, report.summary()
    entry = status_list.badge_status_entry(report.credential)
    if entry is None:
        return True, f"{report.summary()} No revocation status (issued without one)."
    try:
        list_token, list_keys = lists.list_for(entry)
        check = status_list.check_status(entry, list_token, list_keys, issuer_id(report.credential))
    except status_list.StatusUnavailable as error:
        return False, f"Unchecked badge {report.credential.get('name')!r}: {error}."
    if check.revoked:
        return False, f"Revoked badge {report.credential.get('name')!r}: {check.summary()}."
    return True, f"{report.summary()} Status: {check.summary()}."


class StatusLists:
    """Where status lists come from: the --status-list file, this instance's ledger, or HTTP.

    Each list comes with the JWKS to check it with: the given one, and for a list this instance
    signs from its own ledger, also the keys it publishes now (it signs with its current key).
    """

    def __init__(self, offline: list[str] | None, keys: dict):
        self.offline = offline
        self.keys = keys
        self._seen: dict[str, tuple[str, dict]] = {}

    def list_for(self, entry: dict) -> tuple[str, dict]:
        """Return the signed list a badge's entry names and its JWKS (each URL read once)."""
        url, _ = status_list.entry_fields(entry)
        if url not in self._seen:
            self._seen[url] = self._read(url)
        return self._seen[url]

    def _read(self, url: str) -> tuple[str, dict]:
        """Take the list from the offline file, else the local ledger, else fetch it."""
        if self.offline is not None:
            return offline_list(self.offline, url), self.keys
        local = local_list(url)
        if local is None:
            return status_list.fetch(url), self.keys
        token, own_keys = local
        return token, {"keys": [*self.keys["keys"], *own_keys["keys"]]}


def offline_list(tokens: list[str], url: str) -> str:
    """Pick the token whose (still unverified) id is the URL; its signature is checked later."""
    for token in tokens:
        if unverified_claims(token).get("id") == url:
            return token
    raise status_list.StatusUnavailable(f"--status-list holds no list with id {url}")


def unverified_claims(token: str) -> dict:
    """Read a compact JWS's payload without checking it (only to pick which one to verify)."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def local_list(url: str) -> tuple[str, dict] | None:
    """Sign this instance's list from its ledger when the URL is its own; with its JWKS now."""
    app = load_app()
    base = app.config.get("PUBLIC_BASE_URL") if app is not None else None
    number = status_list.list_number(url, str(base)) if base else None
    if app is None or number is None:
        return None
    settings = output_settings(app.config)
    database = app.extensions["ledger"].store.database
    with reading(database.url):
        token = status_list.current_status_list(
            database,
            settings.public_url(),
            issuer_for(settings.public_url(), settings.accreditation.provider),
            app.instance_path,
            number,
        )
    if token is None:
        raise status_list.StatusUnavailable(f"this instance has no status list {url}")
    return token, issuer_jwks(app.instance_path, settings.public_url())


def read_tokens(file: Path, kind: str) -> list[str]:
    """Read the compact JWSs (badges, a checkpoint) in a file, one per line."""
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise UsageProblem(f"Cannot read {file}: {error}.") from None
    tokens = [line.strip() for line in lines if line.strip()]
    if not tokens:
        raise UsageProblem(f"{file} holds no {kind}.")
    return tokens


def read_jwks(path: Path, option: str) -> dict:
    """Read a public JWKS (the badge issuer's, the checkpoints'), named by this option."""
    try:
        keys = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageProblem(f"No public keys at {path}; give {option} FILE.") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UsageProblem(f"Cannot read the JWKS {path}: {error}.") from None
    if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
        raise UsageProblem(f'{path} is not a JWKS (expected {{"keys": [...]}}).')
    return keys

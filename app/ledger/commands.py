"""`bedside ledger init | verify | stats`: plain click commands, attached to the `ledger` group.

The database is `--database PATH`, else the app's DATABASE setting (so `verify` still works on a
copied file, or when the app's configuration is broken).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from flask.cli import ScriptInfo

from app.ledger.chain import from_hundredths
from app.ledger.schema import m001_core_tables
from app.ledger.store import SqliteLedgerStore, applied_migrations, apply_migrations
from app.ledger.verify import verify_chain

DATABASE_OPTION = click.option(
    "--database",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite ledger file (default: the app's BEDSIDE_DATABASE).",
)


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
    applied = apply_migrations(path)
    if applied:
        click.echo(f"Ledger at {path}: applied {', '.join(applied)}.")
    else:
        click.echo(f"Ledger at {path} is up to date.")


@click.command("verify")
@DATABASE_OPTION
def verify(database: Path | None) -> None:
    """Check the whole credit hash chain; report the first record that fails.

    Exit status: 0 chain intact, 1 a record fails, 2 no ledger at that path.
    Keep the printed head hash somewhere else: a later run that shows the same head proves
    nothing before it was rewritten.

    \b
    Examples:
      bedside ledger verify
      bedside ledger verify --database /backups/bedside-2026-03-01.db
    """
    store = existing_ledger(database_path(database))
    try:
        report = verify_chain(store)
    finally:
        store.close()
    click.echo(report.summary())
    if report.ok:
        click.echo(f"Head: #{report.checked} {report.head_hash}")
    click.get_current_context().exit(0 if report.ok else 1)


@click.command("stats")
@DATABASE_OPTION
def stats(database: Path | None) -> None:
    """Count records, reversals and learners, and total the net credit per credit type.

    \b
    Examples:
      bedside ledger stats
    """
    store = existing_ledger(database_path(database))
    kinds: Counter[str] = Counter()
    totals: dict[str, int] = {}
    learners: set[str] = set()
    try:
        for record in store.iter_chain():
            kinds[record.kind] += 1
            totals[record.credit_type] = (
                totals.get(record.credit_type, 0) + record.amount_hundredths
            )
            learners.add(record.learner_id)
    finally:
        store.close()
    click.echo(
        f"{plural(kinds['credit'], 'credit record')}, {plural(kinds['reversal'], 'reversal')}, "
        f"{plural(len(learners), 'learner')} with credit"
    )
    for credit_type, hundredths in sorted(totals.items()):
        click.echo(f"  {credit_type}: {from_hundredths(hundredths)}")


def plural(count: int, noun: str) -> str:
    """Say '1 record' or '2 records'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


class NoLedger(click.ClickException):
    """There is no ledger at the given path (exit status 2)."""

    exit_code = 2


def database_path(database: Path | None) -> Path:
    """Return --database, or the DATABASE setting of the app `bedside` loads."""
    if database is not None:
        return database
    info = click.get_current_context().find_object(ScriptInfo)
    if info is None:
        raise click.UsageError("Give --database PATH (no Bedside app to read it from).")
    return Path(info.load_app().config["DATABASE"])


def existing_ledger(path: Path) -> SqliteLedgerStore:
    """Open an existing, migrated ledger without changing it; exit 2 when there is none."""
    if not path.is_file():
        raise NoLedger(f"No ledger database at {path}.")
    if m001_core_tables.__name__ not in applied_migrations(path):
        raise NoLedger(f"{path} has no ledger tables; run `bedside ledger init`.")
    return SqliteLedgerStore(path, identity_key=None, migrate=False)

"""Migrations: from an empty file, and from the previous version with data in it."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest
from sqlite_utils import Database

from app.db import LEDGER_SETTINGS, connect
from app.ledger import badge_status as badges
from app.ledger.schema import migrations
from app.ledger.store import (
    SqlLedgerStore,
    applied_migrations,
    apply_migrations,
    ledger_database,
)
from app.ledger.verify import verify_chain
from cds_hooks.store import migrations as cds_migrations
from tests.ledger.helpers import ISSUER, KEY, award, request

LEDGER_TABLES = {
    "ledger_learners",
    "ledger_activities",
    "ledger_attempts",
    "ledger_answers",
    "ledger_credits",
    "ledger_submissions",
    "ledger_reporting_identities",
}


def tables(path) -> set[str]:
    """Return the table names in a database file."""
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        names = {row[0] for row in rows}
    connection.close()
    return names


MIGRATIONS = [
    "m001_core_tables",
    "m002_reporting_identities",
    "m003_certificate_credentials",
    "m006_journal_club_activity",
]


def test_from_empty_every_migration_applies_in_order(db_path):
    assert apply_migrations(db_path) == MIGRATIONS
    assert tables(db_path) >= LEDGER_TABLES
    assert applied_migrations(db_path) == MIGRATIONS


def test_applying_again_changes_nothing(db_path):
    apply_migrations(db_path)
    assert apply_migrations(db_path) == []


def test_from_the_previous_version_data_survives(db_path):
    connection = connect(db_path, LEDGER_SETTINGS)
    migrations.apply(
        Database(connection, execute_plugins=False), stop_before="m002_reporting_identities"
    )
    connection.close()
    assert "ledger_reporting_identities" not in tables(db_path)
    # a v1 deployment writing v1 data
    old = SqlLedgerStore(ledger_database(db_path), KEY, migrate=False)
    learner = old.ensure_learner(ISSUER, "Practitioner/1")
    old.append_credit(request(learner), [award()], "before-upgrade")
    old.close()

    upgraded = SqlLedgerStore(ledger_database(db_path), KEY)
    try:
        assert applied_migrations(db_path)[-1] == MIGRATIONS[-1]
        assert upgraded.learner(learner).issuer == ISSUER
        [record] = upgraded.credits_for(learner)
        assert record.activity_key == "case:module-1@1.0.0"
        assert verify_chain(upgraded).ok
        second = upgraded.append_credit(request(learner, 2), [award()], "after-upgrade")
        assert second.records[0].prev_hash == record.record_hash
    finally:
        upgraded.close()


def test_the_cds_tables_keep_their_own_migration_set_in_the_same_file(db_path):
    with Database(db_path) as db:
        cds_migrations.apply(db)
    apply_migrations(db_path)
    assert {"cds_jti", "cds_exposures", "cds_feedback"} <= tables(db_path)
    with sqlite3.connect(db_path) as connection:
        sets = {
            row[0] for row in connection.execute("SELECT migration_set FROM _sqlite_migrations")
        }
    connection.close()
    assert sets == {"bedside.cds", "bedside.ledger"}


def test_the_ledger_runs_in_wal_mode_with_full_sync(db_path):
    apply_migrations(db_path)
    connection = connect(db_path, LEDGER_SETTINGS)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        connection.close()


def test_widening_the_activity_types_keeps_badges_reversals_triggers_and_the_chain(db_path):
    connection = connect(db_path, LEDGER_SETTINGS)
    migrations.apply(
        Database(connection, execute_plugins=False), stop_before="m006_journal_club_activity"
    )
    badges.migrations.apply(Database(connection, execute_plugins=False))
    connection.close()
    old = SqlLedgerStore(ledger_database(db_path), KEY, migrate=False)
    learner = old.ensure_learner(ISSUER, "Practitioner/1")
    first = old.append_credit(request(learner), [award()], "before-1")
    old.append_credit(request(learner, 2), [award()], "before-2")
    old.append_reversal(first.records[0].sequence, "entered in error", "reverse-1")
    badges.allocate(old.database, [2])  # a badge's status slot references credit #2
    old.close()

    upgraded = SqlLedgerStore(ledger_database(db_path), KEY)
    try:
        assert applied_migrations(db_path)[-1] == "m006_journal_club_activity"
        with sqlite3.connect(db_path) as raw:
            assert raw.execute("SELECT record_sequence FROM ledger_badge_status").fetchall() == [
                (2,)
            ]
            assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                raw.execute("UPDATE ledger_credits SET amount_hundredths = 1")
        club = replace(request(learner, 3), activity_type="journal-club")
        assert upgraded.append_credit(club, [award()], "club-1").created
        report = verify_chain(upgraded)
        assert report.ok and report.checked == 4
    finally:
        upgraded.close()

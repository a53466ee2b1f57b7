"""Fixtures: a ledger store on a SQLite file or a PostgreSQL database; a hand-moved clock."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from app.database import DatabaseUrl, parse_database_url
from app.ledger.store import SqlLedgerStore, ledger_database
from tests.ledger.helpers import ISSUER, KEY, Clock, fill


@pytest.fixture
def clock():
    """A clock starting at T0."""
    return Clock()


@pytest.fixture
def ledger_url(database_url) -> DatabaseUrl:
    """Where the test's ledger lives: a SQLite file, then a PostgreSQL database (parametrised)."""
    return parse_database_url(database_url)


@pytest.fixture
def db_path(ledger_url):
    """The test's SQLite ledger file (a test that reads or writes the file runs on SQLite only)."""
    if ledger_url.sqlite_path is None:
        pytest.skip("this test reads or writes the SQLite file itself")
    return ledger_url.sqlite_path


@pytest.fixture
def store(ledger_url, clock):
    """A migrated ledger store, closed after the test."""
    ledger = SqlLedgerStore(ledger_database(ledger_url), KEY, clock=clock)
    yield ledger
    ledger.close()


@pytest.fixture
def learner(store):
    """A learner id for Practitioner/123 at the test EHR."""
    return store.ensure_learner(ISSUER, "Practitioner/123")


@pytest.fixture
def ledger(tmp_path):
    """A ledger of ten records (nine credits, one reversal)."""
    path = tmp_path / "ledger.db"
    fill(path, count=9)
    return path


@pytest.fixture
def cli_app(app):
    """Run ledger commands inside a Bedside app (its instance folder holds the signing key)."""

    def invoke(command, *args: str):
        return CliRunner().invoke(command, list(args), obj=ScriptInfo(create_app=lambda: app))

    return invoke

"""Fixtures: a filled ledger (several learners, cases, point-of-care cycles, a reversal)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app
from app.database import DatabaseUrl, parse_database_url, sqlite_path_url
from app.db import close_stores
from app.ledger.store import SqlLedgerStore, ledger_database
from tests.ledger.helpers import KEY, Clock
from tests.ledger_outputs.world import BASE_URL, build_world


@pytest.fixture
def clock():
    """A hand-moved clock starting at T0 (2026-03-10 14:00 UTC)."""
    return Clock()


@pytest.fixture
def db_path(tmp_path):
    """Where the test's ledger lives."""
    return tmp_path / "instance" / "bedside.db"


@pytest.fixture
def ledger_url(database_url, db_path) -> DatabaseUrl:
    """The ledger's database: the app's SQLite file, then a PostgreSQL database (parametrised)."""
    url = parse_database_url(database_url)
    return sqlite_path_url(db_path) if url.sqlite_path is not None else url


@pytest.fixture
def ledger_file(ledger_url) -> Path:
    """The SQLite ledger file (a test that reads the file itself runs on SQLite only)."""
    if ledger_url.sqlite_path is None:
        pytest.skip("this test reads the SQLite file itself")
    return ledger_url.sqlite_path


@pytest.fixture
def store(ledger_url, clock):
    """A migrated ledger store, closed after the test."""
    ledger = SqlLedgerStore(ledger_database(ledger_url), KEY, clock=clock)
    yield ledger
    ledger.close()


@pytest.fixture
def world(store, clock):
    """The filled ledger's learners and record sequences."""
    return build_world(store, clock)


@pytest.fixture
def outputs_app(db_path, ledger_url, database_url, world):
    """A Bedside app on the filled ledger, with a public URL and the test identity key."""
    instance = db_path.parent
    server = {} if ledger_url.sqlite_path is not None else {"DATABASE_URL": database_url}
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(db_path),
            "PUBLIC_BASE_URL": BASE_URL,
            "LEDGER_IDENTITY_KEY": KEY.decode(),
            **server,
        },
        instance_path=instance,
    )
    yield app
    close_stores(app)

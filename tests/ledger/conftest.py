"""Fixtures: a ledger store on a temporary SQLite file, with a hand-moved clock."""

from __future__ import annotations

import pytest

from app.ledger.store import SqlLedgerStore, ledger_database
from tests.ledger.helpers import ISSUER, KEY, Clock


@pytest.fixture
def clock():
    """A clock starting at T0."""
    return Clock()


@pytest.fixture
def db_path(tmp_path):
    """Where the test's ledger lives."""
    return tmp_path / "bedside.db"


@pytest.fixture
def store(db_path, clock):
    """A migrated ledger store, closed after the test."""
    ledger = SqlLedgerStore(ledger_database(db_path), KEY, clock=clock)
    yield ledger
    ledger.close()


@pytest.fixture
def learner(store):
    """A learner id for Practitioner/123 at the test EHR."""
    return store.ensure_learner(ISSUER, "Practitioner/123")

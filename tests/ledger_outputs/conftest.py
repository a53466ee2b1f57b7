"""Fixtures: a filled ledger (several learners, cases, point-of-care cycles, a reversal)."""

from __future__ import annotations

import pytest

from app import create_app
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
def store(db_path, clock):
    """A migrated ledger store, closed after the test."""
    ledger = SqlLedgerStore(ledger_database(db_path), KEY, clock=clock)
    yield ledger
    ledger.close()


@pytest.fixture
def world(store, clock):
    """The filled ledger's learners and record sequences."""
    return build_world(store, clock)


@pytest.fixture
def outputs_app(db_path, world):
    """A Bedside app on the filled ledger, with a public URL and the test identity key."""
    instance = db_path.parent
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(db_path),
            "PUBLIC_BASE_URL": BASE_URL,
            "LEDGER_IDENTITY_KEY": KEY.decode(),
        },
        instance_path=instance,
    )
    yield app
    close_stores(app)

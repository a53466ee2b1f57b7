"""Interim PostgreSQL fixtures, until tests/support/postgres.py lands on main (then delete me).

The server is one started by hand: CDS_TEST_POSTGRES=postgresql://user@host:port. Without it
the PostgreSQL cases skip. Same names and values as the fixtures coming to tests/conftest.py.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL database's URL (dropped afterwards)."""
    server = os.environ.get("CDS_TEST_POSTGRES")
    if not server:
        pytest.skip("no PostgreSQL server (CDS_TEST_POSTGRES)")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        f"postgresql+psycopg://{server.split('://', 1)[1]}/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    yield f"{server}/{name}"
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh database URL of each engine: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bedside.db'}"
    return request.getfixturevalue("postgres_url")

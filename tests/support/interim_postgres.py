"""INTERIM until pgfixture lands: postgres_url and database_url on a hand-started server."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest

SERVER = os.environ.get("INTERIM_PG", "postgresql://postgres@127.0.0.1:55573")


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL database, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{SERVER}/{name}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh database URL for each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bedside.db'}"
    return request.getfixturevalue("postgres_url")

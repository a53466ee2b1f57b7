"""Shared fixtures: an isolated app per test (temp instance folder, no BEDSIDE_* leakage), and
a real PostgreSQL server with a fresh database per test for the tests that ask for one."""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import settings

from app import create_app
from app.database import Database, parse_database_url
from app.db import close_stores
from tests.support.app_startup import startup_done_once
from tests.support.postgres import PostgresServer, PostgresUnavailable

# Property tests check correctness, not speed (speed targets are figures in bench/): no per-example
# deadline, which a busy 2-core machine turns into failures that say nothing about the code.
settings.register_profile("bedside", deadline=None)
settings.load_profile("bedside")

# The one session-wide Chromium (browser tests and the CDS Hooks sandbox test share it).
pytest_plugins = ["tests.support.chromium"]


@pytest.fixture(scope="session", autouse=True)
def startup_work_done_once():
    """Apps share the start-up work on unchanging inputs (content library, demo keys)."""
    with startup_done_once() as cache:
        yield cache


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Keep the developer's BEDSIDE_* variables out of every test."""
    for name in list(os.environ):
        if name.startswith("BEDSIDE_"):
            monkeypatch.delenv(name)


@pytest.fixture
def instance_path(tmp_path):
    """Give each test its own instance folder."""
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def app(instance_path):
    """Build a test app with its own SQLite file; close its stores afterwards."""
    app = create_app(
        {"TESTING": True, "DATABASE": str(instance_path / "bedside.db")},
        instance_path=instance_path,
    )
    yield app
    close_stores(app)


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner bound to the test app."""
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server per session, started on first use (CI fails without it, else skip)."""
    try:
        server = PostgresServer()
    except PostgresUnavailable as missing:
        message = f"PostgreSQL tests need a server: {missing}"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with server:
        yield server


@pytest.fixture
def postgres_url(postgres_server):
    """The URL of a fresh, empty PostgreSQL database, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh database URL for each engine, so store tests run against SQLite and PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bedside.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def database(database_url):
    """The database behind a test's stores, on each engine (SQLite file, PostgreSQL server)."""
    made = Database(parse_database_url(database_url))
    yield made
    made.dispose()

"""Shared fixtures: an isolated app per test (temp instance folder, no BEDSIDE_* leakage)."""

from __future__ import annotations

import os

import pytest

from app import create_app
from app.db import close_stores


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

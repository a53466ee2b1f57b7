"""Demo-mode apps for SMART tests: the demo EHR's auth server and Bedside in one Flask app."""

from __future__ import annotations

import pytest

from app import create_app
from app.db import close_stores
from tests.smart.transport import WsgiAdapter


def build_demo_app(instance_path, monkeypatch, **config):
    """Create the real app in demo mode, with SMART on, and route http://localhost/ in-process."""
    settings = {"TESTING": True, "DEMO": True, "DATABASE": str(instance_path / "bedside.db")}
    app = create_app({**settings, **config}, instance_path=instance_path)
    adapter = WsgiAdapter(app)
    app.extensions["smart"].transport_adapters["http://localhost/"] = adapter
    app.extensions["test_transport"] = adapter
    return app


@pytest.fixture
def smart_database_url() -> str | None:
    """The DATABASE_URL of demo_app (None: the instance's SQLite file); modules override it."""
    return None


@pytest.fixture
def demo_app(instance_path, monkeypatch, smart_database_url):
    """Bedside in demo mode with the demo SMART server and the SMART client (refresh tokens on)."""
    database = {"DATABASE_URL": smart_database_url} if smart_database_url else {}
    app = build_demo_app(instance_path, monkeypatch, SMART_OFFLINE_ACCESS=True, **database)
    yield app
    close_stores(app)


@pytest.fixture
def browser(demo_app):
    """A test client: it keeps cookies like a browser."""
    return demo_app.test_client()


@pytest.fixture
def auth_server(demo_app):
    """The demo SMART authorization server."""
    return demo_app.extensions["demo_auth"]


@pytest.fixture
def transport(demo_app) -> WsgiAdapter:
    """The in-process transport the SMART client uses for http://localhost/."""
    return demo_app.extensions["test_transport"]


# TEMPORARY stand-ins for tests/conftest.py's `postgres_url` and `database_url` (branch
# pgfixture), against a server started by hand; deleted when that branch is merged.
HAND_STARTED_SERVER = "postgresql://postgres@127.0.0.1:55571"


@pytest.fixture
def postgres_url():
    """The URL of a fresh, empty PostgreSQL database, dropped after the test."""
    import uuid

    import psycopg

    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(f"{HAND_STARTED_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
    yield f"{HAND_STARTED_SERVER}/{name}"
    with psycopg.connect(f"{HAND_STARTED_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh database URL for each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bedside.db'}"
    return request.getfixturevalue("postgres_url")

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

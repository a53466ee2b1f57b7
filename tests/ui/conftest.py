"""Demo-mode Bedside with the /app pages, a browser-like client and the demo SMART server."""

from __future__ import annotations

import pytest

from app.db import close_stores
from tests.smart.conftest import build_demo_app


@pytest.fixture
def ui_app(instance_path, monkeypatch):
    """Bedside in demo mode with /app."""
    app = build_demo_app(instance_path, monkeypatch)
    yield app
    close_stores(app)


@pytest.fixture
def browser(ui_app):
    """A test client that keeps cookies like a browser."""
    return ui_app.test_client()


@pytest.fixture
def auth_server(ui_app):
    """The demo SMART authorization server."""
    return ui_app.extensions["demo_auth"]


@pytest.fixture
def transport(ui_app):
    """The in-process transport the SMART client uses (its rewrites can break FHIR)."""
    return ui_app.extensions["test_transport"]


@pytest.fixture
def sepsis(ui_app) -> dict:
    """The sepsis module from the library."""
    return ui_app.extensions["ui"].library.modules["sepsis-hour-1-bundle"]


@pytest.fixture
def sepsis_module() -> dict:
    """The sepsis module, read straight from the content folder."""
    from app.library.loader import load_library
    from app.settings import REPO_ROOT

    return load_library(REPO_ROOT / "content").modules["sepsis-hour-1-bundle"]

"""Demo-mode Bedside with a facilitator and a moderator in the roles file."""

from __future__ import annotations

import json

import pytest

from app.db import close_stores
from tests.smart.conftest import build_demo_app
from tests.smart.helpers import ISS

FACILITATOR = "dr-fac-lee"
MODERATOR = "dr-mod-moreno"


@pytest.fixture
def roles_file(tmp_path):
    """A roles file granting one clinician facilitation and another moderation."""
    path = tmp_path / "roles.json"
    grants = {
        f"{ISS}/Practitioner/{FACILITATOR}": ["facilitator"],
        f"{ISS}/Practitioner/{MODERATOR}": ["moderator"],
    }
    path.write_text(json.dumps({"fhir_users": grants}))
    return path


@pytest.fixture
def clubs_app(instance_path, monkeypatch, roles_file):
    """Bedside in demo mode with /app and the roles file."""
    app = build_demo_app(instance_path, monkeypatch, ROLES=str(roles_file))
    yield app
    close_stores(app)


@pytest.fixture
def auth_server(clubs_app):
    """The demo SMART authorization server."""
    return clubs_app.extensions["demo_auth"]

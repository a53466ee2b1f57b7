"""Demo-mode Bedside with roles: a moderator and an editor besides the ordinary learner."""

from __future__ import annotations

import json

import pytest

from app.db import close_stores
from tests.smart.conftest import build_demo_app
from tests.smart.helpers import ISS

MODERATOR = "dr-mod-moreno"
EDITOR = "dr-ed-itor"


@pytest.fixture
def roles_file(tmp_path):
    """A roles file granting one clinician moderation and another the editorial queue."""
    path = tmp_path / "roles.json"
    grants = {
        f"{ISS}/Practitioner/{MODERATOR}": ["moderator"],
        f"{ISS}/Practitioner/{EDITOR}": ["editor"],
    }
    path.write_text(json.dumps({"fhir_users": grants}))
    return path


@pytest.fixture
def collab_app(instance_path, monkeypatch, roles_file):
    """Bedside in demo mode with /app and the roles file."""
    app = build_demo_app(instance_path, monkeypatch, ROLES=str(roles_file))
    yield app
    close_stores(app)


@pytest.fixture
def auth_server(collab_app):
    """The demo SMART authorization server."""
    return collab_app.extensions["demo_auth"]


@pytest.fixture
def collab_store(collab_app):
    """The app's collaboration store."""
    return collab_app.extensions["collaboration"].store

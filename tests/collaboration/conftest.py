"""Demo-mode Bedside with roles: a moderator and an editor besides the ordinary learner."""

from __future__ import annotations

import pytest

from tests.support.roles import demo_app_with_roles, roles_file_granting

MODERATOR = "dr-mod-moreno"
EDITOR = "dr-ed-itor"


@pytest.fixture
def roles_file(tmp_path):
    """A roles file granting one clinician moderation and another the editorial queue."""
    grants = {MODERATOR: ["moderator"], EDITOR: ["editor"]}
    return roles_file_granting(tmp_path / "roles.json", grants)


@pytest.fixture
def collab_app(instance_path, monkeypatch, roles_file):
    """Bedside in demo mode with /app and the roles file."""
    yield from demo_app_with_roles(instance_path, monkeypatch, roles_file)


@pytest.fixture
def auth_server(collab_app):
    """The demo SMART authorization server."""
    return collab_app.extensions["demo_auth"]


@pytest.fixture
def collab_store(collab_app):
    """The app's collaboration store."""
    return collab_app.extensions["collaboration"].store

"""Demo-mode Bedside with a facilitator and a moderator in the roles file."""

from __future__ import annotations

import pytest

from tests.support.roles import demo_app_with_roles, roles_file_granting

FACILITATOR = "dr-fac-lee"
MODERATOR = "dr-mod-moreno"


@pytest.fixture
def roles_file(tmp_path):
    """A roles file granting one clinician facilitation and another moderation."""
    grants = {FACILITATOR: ["facilitator"], MODERATOR: ["moderator"]}
    return roles_file_granting(tmp_path / "roles.json", grants)


@pytest.fixture
def clubs_app(instance_path, monkeypatch, roles_file):
    """Bedside in demo mode with /app and the roles file."""
    yield from demo_app_with_roles(instance_path, monkeypatch, roles_file)


@pytest.fixture
def auth_server(clubs_app):
    """The demo SMART authorization server."""
    return clubs_app.extensions["demo_auth"]

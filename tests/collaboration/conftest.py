"""Demo-mode Bedside with roles: a moderator and an editor besides the ordinary learner."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.support.roles import demo_app_with_roles, roles_file_granting
from tests.ui.helpers import get, launch, launch_as, post

MODERATOR = "dr-mod-moreno"
EDITOR = "dr-ed-itor"
SEPSIS = "sepsis-hour-1-bundle"


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


@pytest.fixture
def learner(collab_app, auth_server):
    """The demo clinician, launched, with a display name chosen."""
    client = collab_app.test_client()
    launch(client, auth_server)
    name_form = get(client, "/app/discuss/name")
    post(client, "/app/discuss/name", name_form, name="Night owl", next="/app/")
    return client


@pytest.fixture
def peer(collab_app, auth_server):
    """Another clinician (no roles), launched, named."""
    client = collab_app.test_client()
    launch_as(client, auth_server, "dr-peer-patel")
    post(client, "/app/discuss/name", get(client, "/app/discuss/name"), name="Day shift")
    return client


def start_thread(client, title="Lactate before fluids?", body="Do you **repeat** lactate?") -> str:
    """Start a thread on the sepsis module; return its URL."""
    page_html = get(client, f"/app/discuss/{SEPSIS}")
    response = post(client, f"/app/discuss/{SEPSIS}", page_html, title=title, body=body)
    return urlsplit(response.headers["Location"]).path  # without this browser's launch


def post_ids(html: str) -> list[str]:
    """The ids of the posts a thread page shows."""
    return re.findall(r'id="post-([0-9a-f]{32})"', html)

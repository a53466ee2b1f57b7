"""Demo-mode Bedside with a roles file: what the collaboration features' test fixtures share."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from flask import Flask

from app.db import close_stores
from tests.smart.conftest import build_demo_app
from tests.smart.helpers import ISS


def roles_file_granting(path: Path, grants: dict[str, list[str]]) -> Path:
    """Write a roles file granting demo practitioners (by id) their roles, by absolute fhirUser."""
    users = {f"{ISS}/Practitioner/{practitioner}": roles for practitioner, roles in grants.items()}
    path.write_text(json.dumps({"fhir_users": users}))
    return path


def demo_app_with_roles(instance_path, monkeypatch, roles_file: Path) -> Iterator[Flask]:
    """Bedside in demo mode with /app and the roles file; its stores are closed afterwards."""
    app = build_demo_app(instance_path, monkeypatch, ROLES=str(roles_file))
    yield app
    close_stores(app)

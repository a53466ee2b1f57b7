"""Fixtures: a demo app with the dashboards blueprint mounted."""

from __future__ import annotations

import json

import pytest

from app import create_app
from app.dashboards import init_dashboards
from app.db import close_stores
from tests.support.smart_sessions import sign_in as stored_session


def build_app(instance_path, demo: bool, trusted: tuple[str, ...] | None = None, **settings):
    """A test app, demo or not (then trusting `trusted` EHRs, default ISSUER), with dashboards."""
    config = {
        "TESTING": True,
        "DEMO": demo,
        "DATABASE": str(instance_path / "bedside.db"),
        **settings,
    }
    if not demo:
        config["SMART_CLIENTS"] = str(smart_clients_file(instance_path, trusted or (ISSUER,)))
    app = create_app(config, instance_path=instance_path)
    if "dashboards" not in app.blueprints:
        init_dashboards(app)
    return app


def smart_clients_file(instance_path, issuers: tuple[str, ...]):
    """A SMART_CLIENTS file registering Bedside at these EHRs."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / "smart_clients.json"
    path.write_text(json.dumps([{"iss": iss, "client_id": "bedside"} for iss in issuers]))
    return path


@pytest.fixture
def demo_app(instance_path):
    """A demo-mode app: dashboards open, synthetic data."""
    app = build_app(instance_path, demo=True)
    yield app
    close_stores(app)


@pytest.fixture
def demo_client(demo_app):
    """A client of the demo app."""
    return demo_app.test_client()


ISSUER = "https://ehr.example.org/fhir"


@pytest.fixture
def live_app(instance_path):
    """An app outside demo mode: dashboards need a SMART session and read stored data."""
    app = build_app(instance_path, demo=False)
    yield app
    close_stores(app)


def sign_in(app, client, fhir_user: str | None, issuer: str = ISSUER) -> None:
    """Give the client a stored SMART session (as a launch would) for this fhirUser."""
    stored_session(app, client, fhir_user, issuer)


def save_synthetic(app) -> None:
    """Store the synthetic cases (no patient identifiers) as `outcomes compute --save` does."""
    from datetime import UTC, datetime

    from app.devtools.synthetic.dataset import synthetic_practice

    data = synthetic_practice(str(app.config["CONTENT_DIR"]))
    cases = [case for items in data.cases.values() for case in items]
    store = app.extensions["practice_store"]
    store.save_import(cases, datetime(2025, 11, 1, tzinfo=UTC), data.end, "ndjson")

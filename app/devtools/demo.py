"""Demo mode: mount the fixture FHIR server and the demo EHR, and trust the demo EHR's key."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Flask

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Mount the demo helpers; called only when BEDSIDE_DEMO is on."""
    from app.devtools import demo_ehr
    from app.devtools.demo_keys import demo_ehr_client
    from app.devtools.fhir_server import create_fhir_blueprint
    from app.devtools.fhir_store import FixtureStore
    from app.devtools.smart_auth import init_demo_auth

    patients = app.config["FHIR_FIXTURES_DIR"] / "patients"
    store = FixtureStore.from_directory(patients, now=datetime.now(UTC))
    app.extensions["demo_fhir_store"] = store
    auth_server = init_demo_auth(app)
    fhir = create_fhir_blueprint(store, token_check=auth_server.validate_access_token)
    app.register_blueprint(fhir, url_prefix="/fhir")
    app.register_blueprint(demo_ehr.bp)
    clients = app.extensions.setdefault("cds_clients", [])
    clients.append(demo_ehr_client(app.instance_path))
    log.warning("Demo mode is on: demo EHR, SMART server and token-protected fixture FHIR at /fhir")

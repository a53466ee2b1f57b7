"""Demo mode: mount the fixture FHIR server (and later the demo EHR) on the app."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Flask

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Mount the demo helpers; called only when BEDSIDE_DEMO is on."""
    from app.devtools.fhir_server import create_fhir_blueprint
    from app.devtools.fhir_store import FixtureStore

    patients = app.config["FHIR_FIXTURES_DIR"] / "patients"
    store = FixtureStore.from_directory(patients, now=datetime.now(UTC))
    app.register_blueprint(create_fhir_blueprint(store), url_prefix="/fhir")
    log.warning("Demo mode is on: synthetic fixture FHIR server mounted at /fhir")

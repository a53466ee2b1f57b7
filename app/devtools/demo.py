"""Demo mode: the fixture FHIR server, the demo EHR and its keys, the demo deployment objects."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Flask

from app.dashboards.content_sources import SYNTHETIC_CONTENT
from app.deployment import EXTENSION as DEPLOYMENT
from app.deployment import Deployment
from app.devtools.demo_content import SyntheticContent
from app.devtools.demo_origin import demo_origin
from app.devtools.smart_auth import PUBLIC_CLIENT
from app.devtools.synthetic.dataset import SyntheticPracticeSource
from app.outcomes.practice_data import SOURCE as PRACTICE_SOURCE

log = logging.getLogger(__name__)


class DemoDeployment(Deployment):
    """Demo mode: pages say so, and the demo EHR on the same origin is a registered EHR."""

    demo = True

    def home_issuer(self) -> str | None:
        """The demo EHR's FHIR base (same origin as Bedside)."""
        return f"{demo_origin()}/fhir"

    def built_in_client_id(self, issuer: str) -> str | None:
        """Bedside's client id at the demo EHR."""
        return PUBLIC_CLIENT if issuer == self.home_issuer() else None


def init_app(app: Flask) -> None:
    """Mount the demo helpers and install the demo deployment; only when BEDSIDE_DEMO is on."""
    from app.devtools import demo_ehr
    from app.devtools.demo_keys import demo_ehr_client
    from app.devtools.fhir_bulk_export import ExportJobs
    from app.devtools.fhir_server import create_fhir_blueprint
    from app.devtools.fhir_store import FixtureStore
    from app.devtools.smart_auth import init_demo_auth

    patients = app.config["FHIR_FIXTURES_DIR"] / "patients"
    store = FixtureStore.from_directory(patients, now=datetime.now(UTC))
    app.extensions["demo_fhir_store"] = store
    auth_server = init_demo_auth(app)
    fhir = create_fhir_blueprint(
        store, token_check=auth_server.validate_access_token, exports=ExportJobs(store)
    )
    app.register_blueprint(fhir, url_prefix="/fhir")
    app.register_blueprint(demo_ehr.bp)
    clients = app.extensions.setdefault("cds_clients", [])
    clients.append(demo_ehr_client(app.instance_path))
    allow_own_fhir_over_http(app)
    app.extensions[DEPLOYMENT] = DemoDeployment()
    clinician = str(app.config["DEMO_PRACTICE_CLINICIAN"]).strip()
    app.extensions[PRACTICE_SOURCE] = SyntheticPracticeSource(
        str(app.config["CONTENT_DIR"]), clinician
    )
    app.extensions[SYNTHETIC_CONTENT] = SyntheticContent()
    log.warning("Demo mode is on: demo EHR, SMART server and token-protected fixture FHIR at /fhir")


def allow_own_fhir_over_http(app: Flask) -> None:
    """The fixture FHIR server is this very server: CDS may fetch from it over plain http."""
    own = ["127.0.0.1", "localhost", "::1"]
    public = urlsplit(str(app.config.get("PUBLIC_BASE_URL") or ""))
    if public.scheme == "http" and public.netloc:
        own.append(public.netloc)
    configured = str(app.config.get("FHIR_INSECURE_HOSTS") or "").split()
    app.config["FHIR_INSECURE_HOSTS"] = " ".join(dict.fromkeys([*configured, *own]))

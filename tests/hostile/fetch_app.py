"""A CDS test app trusting one EHR key, and order-select calls that fetch everything."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app import create_app
from app.db import close_stores
from tests.cds_hooks.conftest import EHR_ISS, CdsCaller
from tests.cds_hooks.hook_requests import draft_medication, hook_request
from tests.cds_hooks.jwt_helpers import make_ec_key, public_jwks

SERVICE = "bedside-order-select"
EHR_KEY = make_ec_key("hostile-ehr")


@contextmanager
def cds_app_with(instance_path: Path, **settings: object) -> Iterator:
    """A CDS app (trusting EHR_KEY) with extra settings; closed afterwards."""
    clients = instance_path / "cds-clients.json"
    clients.write_text(json.dumps([{"iss": EHR_ISS, "jwks": public_jwks(EHR_KEY)}]))
    config = {
        "TESTING": True,
        "DATABASE": str(instance_path / "bedside.db"),
        "CDS_CLIENTS": str(clients),
        **settings,
    }
    app = create_app(config, instance_path=instance_path)
    try:
        yield app
    finally:
        close_stores(app)


def call_order_select(app, fhir_server: str, token: str = "tok"):
    """Fire order-select with nothing prefetched, so every query goes to fhirServer."""
    body = hook_request(
        "order-select",
        "sepsis-adult",
        prefetch=None,
        draft_orders=[draft_medication("sepsis-adult")],
        fhir_server=fhir_server,
        access_token=token,
    )
    return CdsCaller(app.test_client(), EHR_KEY).hook(SERVICE, body)

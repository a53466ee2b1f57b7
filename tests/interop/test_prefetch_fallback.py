"""CDS prefetch fallback: with no prefetch, Bedside reads the EHR's FHIR server (here Medplum)."""

from __future__ import annotations

import pytest

from app import create_app
from app.db import close_stores
from tests.cds_hooks.hook_requests import CEFTRIAXONE, draft_medication, hook_request
from tests.interop.conftest import TOKEN


def call_hook(tmp_path, name: str, body: dict) -> dict:
    """POST one hook to a fresh Bedside (own database: no fatigue carried over); return the body."""
    instance = tmp_path / name
    config = {
        "TESTING": True,
        "DATABASE": str(instance / "bedside.db"),
        "CDS_AUTH": "off",
        "FHIR_INSECURE_HOSTS": "127.0.0.1",  # both FHIR servers are plain http on loopback
    }
    app = create_app(config, instance_path=instance)
    try:
        service = f"bedside-{body['hook']}"
        response = app.test_client().post(f"/cds-services/{service}", json=body)
    finally:
        close_stores(app)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.json


def without_uuids(value: object) -> object:
    """Cards (or any JSON) without the uuids minted per response."""
    if isinstance(value, dict):
        return {k: without_uuids(v) for k, v in value.items() if k != "uuid"}
    if isinstance(value, list):
        return [without_uuids(item) for item in value]
    return value


@pytest.mark.parametrize(
    ("hook", "patient", "drafts"),
    [
        ("patient-view", "hfref-adult", []),
        ("order-select", "sepsis-adult", [CEFTRIAXONE]),
        ("order-sign", "sepsis-adult", [CEFTRIAXONE]),
        ("order-select", "uri-child", [CEFTRIAXONE]),
    ],
)
def test_cards_from_medplum_match_the_fixture_server(
    tmp_path, medplum, fixture_server, hook, patient, drafts
):
    orders = [draft_medication(patient, drug) for drug in drafts]
    bodies = {
        name: hook_request(
            hook, patient, prefetch=None, draft_orders=orders, fhir_server=url, access_token=TOKEN
        )
        for name, url in (("medplum", medplum.base_url), ("fixture", fixture_server.base_url))
    }
    cards = {name: call_hook(tmp_path, name, body)["cards"] for name, body in bodies.items()}
    assert cards["fixture"], "each case shows a card, so an empty answer cannot pass"
    assert without_uuids(cards["medplum"]) == without_uuids(cards["fixture"])

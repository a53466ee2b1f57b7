"""What one hook call may cost: resources carried (413), time computed (503), linear context."""

from __future__ import annotations

from datetime import UTC, datetime

from cds_hooks.patient_context import build_context
from tests.cds_hooks.hook_requests import hook_request, prefetch_for

SEPSIS = "sepsis-adult"
SERVICE = "bedside-order-sign"


def uncoded_order(number: int) -> dict:
    """A draft MedicationRequest naming its drug only by a reference nothing resolves.

    The costly case: resolving it looks for a Medication among all the other resources.
    """
    return {
        "resourceType": "MedicationRequest",
        "id": f"draft-{number}",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{SEPSIS}"},
        "medicationReference": {"reference": f"Medication/unknown-{number}"},
    }


def order_sign(fixture_store, orders: int) -> dict:
    """An order-sign call for the sepsis patient with this many uncoded draft orders."""
    return hook_request(
        "order-sign",
        SEPSIS,
        prefetch=prefetch_for(fixture_store, SEPSIS),
        draft_orders=[uncoded_order(number) for number in range(orders)],
    )


def test_ten_thousand_draft_orders_are_refused_naming_the_limit(cds, fixture_store):
    response = cds.hook(SERVICE, order_sign(fixture_store, 10_000))
    assert response.status_code == 413
    error = response.json["error"]
    assert error["code"] == "too_many_resources"
    assert "5000" in error["message"] and "BEDSIDE_CDS_MAX_RESOURCES" in error["message"]


def test_prefetched_entries_count_towards_the_limit(cds, cds_app, fixture_store):
    body = order_sign(fixture_store, 0)
    prefetched = sum(len(v.get("entry", [v])) for v in body["prefetch"].values() if v)
    cds_app.config["CDS_MAX_RESOURCES"] = prefetched - 1
    assert cds.hook(SERVICE, body).status_code == 413
    cds_app.config["CDS_MAX_RESOURCES"] = prefetched
    assert cds.hook(SERVICE, body).status_code == 200


def test_ten_thousand_draft_orders_within_a_raised_limit_get_cards(cds, cds_app, fixture_store):
    cds_app.config["CDS_MAX_RESOURCES"] = 20_000
    response = cds.hook(SERVICE, order_sign(fixture_store, 10_000))
    assert response.status_code == 200
    assert "cards" in response.json


def test_a_call_past_its_time_budget_gets_503_and_no_cards(cds, cds_app, fixture_store):
    cds_app.config["CDS_TIME_BUDGET_SECONDS"] = -1  # spent before it starts
    response = cds.hook(SERVICE, order_sign(fixture_store, 1))
    assert response.status_code == 503
    assert response.json["error"]["code"] == "time_budget_exceeded"
    assert "cards" not in response.json


class CountedResource(dict):
    """A FHIR resource that counts how often its resourceType is looked at."""

    lookups = 0

    def get(self, key, default=None):
        """Count reads of resourceType (the test of 'is this a Medication?')."""
        if key == "resourceType":
            CountedResource.lookups += 1
        return super().get(key, default)


def resourcetype_lookups(orders: int) -> int:
    """How many resourceType reads building the context of `orders` uncoded orders takes."""
    CountedResource.lookups = 0
    draft_orders = [CountedResource(uncoded_order(number)) for number in range(orders)]
    build_context("order-sign", datetime.now(UTC), patient=None, draft_orders=draft_orders)
    return CountedResource.lookups


def test_context_building_grows_linearly_with_the_draft_orders():
    small, large = resourcetype_lookups(2_000), resourcetype_lookups(8_000)
    assert large / small < 5  # 4 when linear; 16 when every order scans its siblings

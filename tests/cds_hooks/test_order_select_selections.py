"""order-select: only the selected draft orders trigger cards; the other drafts are context."""

from __future__ import annotations

import json

import pytest

from tests.cds_hooks.hook_requests import draft_medication, hook_request, prefetch_for

SEPSIS = "sepsis-adult"
LOINC = "http://loinc.org"
CEFTRIAXONE = "MedicationRequest/draft-1"
SERVICES = {"order-select": "bedside-order-select", "order-sign": "bedside-order-sign"}


def draft_service_request(code: str, display: str, order_id: str) -> dict:
    """A draft ServiceRequest (a lab order) as an EHR sends it in draftOrders."""
    return {
        "resourceType": "ServiceRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{SEPSIS}"},
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
    }


LACTATE = draft_service_request("2524-7", "Lactate [Moles/volume] in Serum or Plasma", "draft-2")
BLOOD_CULTURE = draft_service_request("600-7", "Bacteria identified in Blood by Culture", "draft-3")


def sepsis_call(fixture_store, hook: str, drafts: list[dict], selections: list[str] | None):
    """The sepsis patient on the order-entry screen with these drafts (and these selected)."""
    body = hook_request(
        hook, SEPSIS, prefetch=prefetch_for(fixture_store, SEPSIS), draft_orders=drafts
    )
    if selections is not None:
        body["context"]["selections"] = selections
    return body


def sepsis_cards(cds, body) -> list[dict]:
    """The sepsis hour-1 cards of the answer (which must be a 200)."""
    response = cds.hook(SERVICES[body["hook"]], body)
    assert response.status_code == 200, response.json
    return [
        card
        for card in response.json["cards"]
        if json.loads(card["links"][0]["appContext"])["module"] == "sepsis-hour-1-bundle"
    ]


def test_an_unselected_draft_antibiotic_does_not_trigger_the_card_on_order_select(
    cds, fixture_store
):
    drafts = [draft_medication(SEPSIS), LACTATE]
    body = sepsis_call(fixture_store, "order-select", drafts, ["ServiceRequest/draft-2"])
    assert sepsis_cards(cds, body) == []


def test_the_selected_draft_antibiotic_triggers_the_card_beside_other_drafts(cds, fixture_store):
    drafts = [draft_medication(SEPSIS), LACTATE]
    body = sepsis_call(fixture_store, "order-select", drafts, [CEFTRIAXONE])
    (card,) = sepsis_cards(cds, body)
    assert "ceftriaxone 1000 MG Injection" in card["detail"]


def test_one_selected_order_among_several_selections_is_enough(cds, fixture_store):
    drafts = [draft_medication(SEPSIS), LACTATE]
    body = sepsis_call(
        fixture_store, "order-select", drafts, ["ServiceRequest/draft-2", CEFTRIAXONE]
    )
    assert len(sepsis_cards(cds, body)) == 1


def test_an_unselected_drafted_blood_culture_still_counts_as_already_ordered(cds, fixture_store):
    drafts = [draft_medication(SEPSIS), BLOOD_CULTURE]
    body = sepsis_call(fixture_store, "order-select", drafts, [CEFTRIAXONE])
    assert sepsis_cards(cds, body) == []


def test_on_order_sign_every_draft_order_is_being_signed(cds, fixture_store):
    drafts = [LACTATE, draft_medication(SEPSIS)]
    body = sepsis_call(fixture_store, "order-sign", drafts, None)
    assert len(sepsis_cards(cds, body)) == 1


@pytest.mark.parametrize(
    "selections",
    [["MedicationRequest/not-drafted"], ["medicationrequest/draft-1"], ["x" * 500]],
    ids=["unknown-id", "wrong-case-type", "long"],
)
def test_a_selection_naming_no_draft_order_selects_nothing(cds, fixture_store, selections):
    body = sepsis_call(fixture_store, "order-select", [draft_medication(SEPSIS)], selections)
    assert sepsis_cards(cds, body) == []


@pytest.mark.parametrize(
    "selection",
    ["draft-1", "https://ehr.example.org/fhir/MedicationRequest/draft-1"],
    ids=["bare-id", "absolute-url"],
)
def test_a_selection_naming_the_draft_by_its_id_or_url_selects_it(cds, fixture_store, selection):
    """The hook calls selections "the FHIR id" of the orders: a bare id or a URL names one too."""
    body = sepsis_call(fixture_store, "order-select", [draft_medication(SEPSIS)], [selection])
    assert len(sepsis_cards(cds, body)) == 1

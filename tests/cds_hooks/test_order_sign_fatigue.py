"""At order-sign a card comes back unless the user acted on it (overrode or accepted it)."""

from __future__ import annotations

from tests.cds_hooks.hook_requests import draft_medication, hook_request, prefetch_for
from tests.cds_hooks.test_service import SEPSIS, overridden

MODULE = "sepsis-hour-1-bundle"
FEEDBACK = "/cds-services/bedside-order-select/feedback"


def sepsis_call(cds, fixture_store, hook: str) -> list[dict]:
    """Call a service with the ceftriaxone draft for the sepsis patient; return the cards."""
    body = hook_request(
        hook,
        SEPSIS,
        prefetch=prefetch_for(fixture_store, SEPSIS),
        draft_orders=[draft_medication(SEPSIS)],
        encounter_id="sepsis-adult-ed-visit",
    )
    return cds.hook(f"bedside-{hook}", body).json["cards"]


def sepsis_card(cards: list[dict]) -> dict | None:
    """The sepsis module's card among the cards, if shown."""
    return next((c for c in cards if MODULE in c["links"][0]["appContext"]), None)


def test_signing_the_order_whose_card_was_just_shown_shows_it_again(cds, fixture_store):
    assert sepsis_card(sepsis_call(cds, fixture_store, "order-select"))
    assert sepsis_card(sepsis_call(cds, fixture_store, "order-select")) is None  # no re-fire
    assert sepsis_card(sepsis_call(cds, fixture_store, "order-sign"))


def test_a_card_overridden_at_selection_stays_away_at_signing(cds, fixture_store):
    card = sepsis_card(sepsis_call(cds, fixture_store, "order-select"))
    assert cds.post(FEEDBACK, overridden(card["uuid"])).json["recorded"] == 1
    assert sepsis_card(sepsis_call(cds, fixture_store, "order-sign")) is None


def test_a_card_accepted_at_selection_stays_away_at_signing(cds, fixture_store):
    card = sepsis_card(sepsis_call(cds, fixture_store, "order-select"))
    accepted = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
                "outcomeTimestamp": "2026-03-10T14:05:00Z",
            }
        ]
    }
    assert cds.post(FEEDBACK, accepted).json["recorded"] == 1
    assert sepsis_card(sepsis_call(cds, fixture_store, "order-sign")) is None

"""Frequency rules through the real service: once per user, patient and encounter, any hook.

Run on SQLite and on PostgreSQL: the rules read the exposures store that every host shares.
"""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import text

from app.database import app_database
from app.settings import REPO_ROOT

REQUESTS = REPO_ROOT / "fhir_fixtures" / "cds_requests"
AF = "af-anticoagulation"
PENICILLIN = "penicillin-allergy-evaluation"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
AZITHROMYCIN_250 = ("308460", "azithromycin 250 MG Oral Tablet")
AZITHROMYCIN_500 = ("248656", "azithromycin 500 MG Oral Tablet")
DAY = 86_400


@pytest.fixture
def cds_config(cds_config, database_url):
    """The suite's configuration on each engine (SQLite file, PostgreSQL database)."""
    return {**cds_config, "DATABASE_URL": database_url}


def fixture_request(module: str, name: str) -> dict:
    """A module's CDS Hooks request fixture (a fresh copy)."""
    return json.loads((REQUESTS / module / f"{name}.json").read_text(encoding="utf-8"))["request"]


def af_request(hook: str, encounter: str | None = "af-visit-1") -> dict:
    """The AF patient without an anticoagulant, on patient-view or with aspirin drafted."""
    body = fixture_request(AF, "fires-order-select-aspirin-alone")
    body["hook"] = hook
    if hook == "patient-view":
        del body["context"]["draftOrders"], body["context"]["selections"]
    if encounter is None:
        del body["context"]["encounterId"]
    else:
        body["context"]["encounterId"] = encounter
    return body


def azithromycin_request(hook: str, order_id: str, code_display: tuple[str, str]) -> dict:
    """The patient with a penicillin label, with one azithromycin order drafted."""
    body = fixture_request(PENICILLIN, "fires-penicillin-label-vancomycin")
    body["hook"] = hook
    (entry,) = body["context"]["draftOrders"]["entry"]
    order = copy.deepcopy(entry["resource"])
    code, display = code_display
    order["id"] = order_id
    order["medicationCodeableConcept"] = {
        "coding": [{"system": RXNORM, "code": code, "display": display}]
    }
    order.pop("dosageInstruction", None)
    body["context"]["draftOrders"]["entry"] = [{"resource": order}]
    if hook == "order-select":
        body["context"]["selections"] = [f"MedicationRequest/{order_id}"]
    else:
        body["context"].pop("selections", None)
    return body


def cards_of(cds, module: str, body: dict) -> list[dict]:
    """Call the hook's service; return the cards the module showed."""
    response = cds.hook(f"bedside-{body['hook']}", body)
    assert response.status_code == 200, response.json
    return [card for card in response.json["cards"] if module in card["links"][0]["appContext"]]


def exposures(cds_app) -> list[str]:
    """The modules of every card recorded as shown."""
    with app_database(cds_app).read() as connection:
        return list(connection.execute(text("SELECT module_id FROM cds_exposures")).scalars())


def age_exposures(cds_app, seconds: float) -> None:
    """Move every recorded showing that far into the past (as if that time had gone by)."""
    with app_database(cds_app).write() as connection:
        connection.execute(
            text("UPDATE cds_exposures SET shown_at = shown_at - :seconds"), {"seconds": seconds}
        )


def test_af_shown_on_patient_view_is_not_shown_again_on_order_select_in_that_encounter(
    cds, cds_app
):
    assert len(cards_of(cds, AF, af_request("patient-view"))) == 1
    assert cards_of(cds, AF, af_request("order-select")) == []
    assert cards_of(cds, AF, af_request("patient-view")) == []
    assert exposures(cds_app) == [AF]  # a suppressed card is not an exposure


def test_penicillin_label_card_is_not_repeated_on_the_second_azithromycin_order(cds, cds_app):
    first = azithromycin_request("order-select", "azithro-1", AZITHROMYCIN_250)
    second = azithromycin_request("order-select", "azithro-2", AZITHROMYCIN_500)
    assert len(cards_of(cds, PENICILLIN, first)) == 1
    assert cards_of(cds, PENICILLIN, second) == []
    assert exposures(cds_app) == [PENICILLIN]


def test_at_signing_a_card_comes_back_once_not_at_every_further_signing(cds):
    select = azithromycin_request("order-select", "azithro-1", AZITHROMYCIN_250)
    assert len(cards_of(cds, PENICILLIN, select)) == 1
    sign_first = azithromycin_request("order-sign", "azithro-1", AZITHROMYCIN_250)
    assert len(cards_of(cds, PENICILLIN, sign_first)) == 1  # the last look at the order in hand
    sign_second = azithromycin_request("order-sign", "azithro-2", AZITHROMYCIN_500)
    assert cards_of(cds, PENICILLIN, sign_second) == []


def test_a_new_encounter_shows_the_card_again(cds, cds_app):
    assert len(cards_of(cds, AF, af_request("patient-view", "af-visit-1"))) == 1
    assert len(cards_of(cds, AF, af_request("patient-view", "af-visit-2"))) == 1
    assert cards_of(cds, AF, af_request("order-select", "af-visit-2")) == []
    assert exposures(cds_app) == [AF, AF]


def test_another_clinician_sees_the_card_in_the_same_encounter(cds):
    assert len(cards_of(cds, AF, af_request("patient-view"))) == 1
    colleague = af_request("patient-view")
    colleague["context"]["userId"] = "Practitioner/dr-fx-colleague"
    assert len(cards_of(cds, AF, colleague)) == 1


def test_without_an_encounter_the_card_returns_after_the_modules_window(cds, cds_app):
    """AF declares every_days: 7 for calls that name no encounter."""
    assert len(cards_of(cds, AF, af_request("patient-view", None))) == 1
    assert cards_of(cds, AF, af_request("order-select", None)) == []
    age_exposures(cds_app, 6 * DAY)
    assert cards_of(cds, AF, af_request("patient-view", None)) == []  # within the 7 days
    age_exposures(cds_app, 2 * DAY)
    assert len(cards_of(cds, AF, af_request("patient-view", None))) == 1


def test_a_showing_without_an_encounter_counts_in_an_encounter_within_the_window(cds, cds_app):
    assert len(cards_of(cds, AF, af_request("patient-view", None))) == 1
    assert cards_of(cds, AF, af_request("order-select", "af-visit-1")) == []
    age_exposures(cds_app, 8 * DAY)
    assert len(cards_of(cds, AF, af_request("order-select", "af-visit-1"))) == 1

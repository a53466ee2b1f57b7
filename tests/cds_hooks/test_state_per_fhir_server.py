"""CDS state per data origin: user, patient and encounter ids are local to one FHIR server.

Patient "sepsis-adult" at two FHIR servers behind one issuer (two hospitals on one EHR vendor's
platform, or many users of one sandbox) is two patients, and Practitioner/dr-ed-okafor two
clinicians: each gets the first card, and an override at one does not snooze the other. State
written before the origin counted (keyed by the issuer alone) holds until it expires.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid

import pytest
from pydantic import HttpUrl

from cds_hooks.engine import namespace_of
from cds_hooks.store import Exposure
from tests.cds_hooks.conftest import EHR_ISS
from tests.cds_hooks.hook_requests import PRACTITIONER, draft_medication, hook_request
from tests.cds_hooks.hook_requests import prefetch_for as prefetch
from tests.cds_hooks.test_frequency import AF, af_request, cards_of
from tests.cds_hooks.test_service import SEPSIS, overridden

MODULE = "sepsis-hour-1-bundle"
ENCOUNTER = "sepsis-adult-ed-visit"
NEXT_VISIT, EARLIER_VISIT = "sepsis-adult-next-visit", "sepsis-adult-earlier-visit"
FEEDBACK = "/cds-services/bedside-order-select/feedback"
HOSPITAL_A = "https://a.example/fhir"
HOSPITAL_B = "https://b.example/fhir"


@pytest.fixture
def cds_config(cds_config, database_url):
    """The suite's configuration on each engine (SQLite file, PostgreSQL database)."""
    return {**cds_config, "DATABASE_URL": database_url}


def sepsis_card(
    cds, fixture_store, *, hook="order-select", fhir_server=None, encounter=ENCOUNTER, **claims
):
    """Call a hook for the sepsis story at this FHIR server (token claims added); its card."""
    body = hook_request(
        hook,
        SEPSIS,
        prefetch=prefetch(fixture_store, SEPSIS),
        draft_orders=[draft_medication(SEPSIS)],
        encounter_id=encounter,
        fhir_server=fhir_server,
    )
    path = f"/cds-services/bedside-{hook}"
    headers = {"Authorization": f"Bearer {cds.token(path, **claims)}"}
    response = cds.client.post(path, json=body, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    cards = response.json["cards"]
    return next((card for card in cards if MODULE in card["links"][0]["appContext"]), None)


def legacy_key(cds, kind: str, identifier: str) -> str:
    """A key as Bedside made it before the data's origin counted: the issuer alone."""
    secret = str(cds.client.application.config["CDS_IDENTITY_KEY"]).encode()
    message = f"{kind}|{EHR_ISS}|{identifier}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def card_shown_before_the_upgrade(cds, module: str, context: dict) -> str:
    """Store a module's card as shown before the upgrade in this hook context; its uuid."""
    card = str(uuid.uuid4())
    exposure = Exposure(
        card_uuid=card,
        module_id=module,
        module_version="1.0.0",
        service_id="bedside-order-select",
        user_key=legacy_key(cds, "user", context["userId"]),
        patient_key=legacy_key(cds, "patient", context["patientId"]),
        shown_at=time.time(),
        client=EHR_ISS,
        encounter_key=legacy_key(cds, "encounter", context["encounterId"]),
    )
    cds.client.application.extensions["cds"].engine.store.record_call([exposure])
    return card


def test_each_fhir_server_behind_one_issuer_gets_its_first_card_and_not_a_second(
    cds, fixture_store
):
    assert sepsis_card(cds, fixture_store, fhir_server=HOSPITAL_A)
    assert sepsis_card(cds, fixture_store, fhir_server=HOSPITAL_B)
    assert sepsis_card(cds, fixture_store, fhir_server=HOSPITAL_A) is None
    assert sepsis_card(cds, fixture_store, fhir_server=f"{HOSPITAL_B}/") is None


def test_each_tenant_behind_one_issuer_gets_its_first_card_and_not_a_second(cds, fixture_store):
    assert sepsis_card(cds, fixture_store, tenant="hospital-a")
    assert sepsis_card(cds, fixture_store, tenant="hospital-b")
    assert sepsis_card(cds, fixture_store, tenant="hospital-a") is None


def test_feedback_after_a_call_snoozes_the_module_at_that_fhir_server_only(cds, fixture_store):
    card = sepsis_card(cds, fixture_store, fhir_server=HOSPITAL_A)
    recorded = cds.post(FEEDBACK, overridden(card["uuid"])).json
    assert recorded == {"recorded": 1, "alreadyRecorded": 0, "unknownCards": 0}
    assert sepsis_card(cds, fixture_store, fhir_server=HOSPITAL_A, encounter=NEXT_VISIT) is None
    assert sepsis_card(cds, fixture_store, fhir_server=HOSPITAL_B, encounter=NEXT_VISIT)


def af_cards(cds, encounter: str) -> list[dict]:
    """The AF module's cards on patient-view at hospital A, in this encounter."""
    body = af_request("patient-view", encounter) | {"fhirServer": HOSPITAL_A}
    return cards_of(cds, AF, body)


def test_a_card_shown_before_the_upgrade_is_not_repeated_in_its_encounter(cds):
    """AF is shown once per encounter, however long ago: the old encounter key must match."""
    card_shown_before_the_upgrade(cds, AF, af_request("patient-view", "af-visit-1")["context"])
    assert af_cards(cds, "af-visit-1") == []
    assert len(af_cards(cds, "af-visit-2")) == 1


@pytest.mark.parametrize(
    "hook,outcome",
    [("order-select", "overridden"), ("order-sign", "overridden"), ("order-sign", "accepted")],
)
def test_feedback_on_a_card_shown_before_the_upgrade_still_keeps_it_away(
    cds, fixture_store, hook, outcome
):
    earlier = {"userId": f"Practitioner/{PRACTITIONER}", "patientId": SEPSIS}
    card = card_shown_before_the_upgrade(cds, MODULE, earlier | {"encounterId": EARLIER_VISIT})
    feedback = overridden(card)
    if outcome == "accepted":
        feedback["feedback"][0] = {
            "card": card,
            "outcome": "accepted",
            "acceptedSuggestions": [{"id": str(uuid.uuid4())}],
            "outcomeTimestamp": "2026-03-10T14:05:00Z",
        }
    assert cds.post(FEEDBACK, feedback).json["recorded"] == 1
    assert sepsis_card(cds, fixture_store, hook=hook, fhir_server=HOSPITAL_A) is None


@pytest.mark.parametrize(
    "spelling",
    [
        "https://EHR.example.org/fhir",
        "https://ehr.example.org:443/fhir/",
        "HTTPS://ehr.example.org/fhir",
    ],
)
def test_one_fhir_server_spelled_differently_is_one_namespace(spelling):
    """A SMART issuer and a hook's fhirServer (pydantic-normalised) name one origin: same keys."""
    called = namespace_of("https://ehr.example.org", str(HttpUrl(spelling)), None)
    assert namespace_of("https://ehr.example.org", spelling, None) == called
    assert called.origin == ("fhirServer", "https://ehr.example.org/fhir")

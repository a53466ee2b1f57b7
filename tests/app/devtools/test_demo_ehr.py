"""The demo EHR is a real CDS client: signed calls over HTTP, cards rendered, feedback sent."""

from __future__ import annotations

import pytest
import requests

from app import create_app
from tests.support.live_server import LiveServer


@pytest.fixture
def demo(instance_path):
    """The app in demo mode on a real loopback port."""
    app = create_app(
        {"TESTING": True, "DEMO": True, "DATABASE": str(instance_path / "b.db")},
        instance_path=instance_path,
    )
    with LiveServer(app) as server:
        yield server


def post(server, path, body):
    """POST JSON to the live server."""
    with requests.post(server.url + path, json=body, timeout=15) as response:
        return response.status_code, response.json()


def test_patient_list_and_chart_are_labelled_as_a_simulator(demo):
    with requests.get(demo.url + "/demo-ehr/", timeout=5) as listing:
        assert "simulator" in listing.text
        assert "sepsis-adult" in listing.text
    with requests.get(demo.url + "/demo-ehr/patients/sepsis-adult", timeout=5) as chart:
        assert "Lactate" in chart.text
        assert "<script src=" in chart.text and "demo_ehr.js" in chart.text


def test_drafting_an_antibiotic_for_the_sepsis_patient_shows_the_card(demo):
    status, body = post(
        demo,
        "/demo-ehr/api/patients/sepsis-adult/hooks/order-select",
        {"drafts": ["ceftriaxone-1g"]},
    )
    assert status == 200
    (card,) = body["cards"]
    assert "sepsis-hour-1-bundle" in card["links"][0]["appContext"]
    assert "<strong>" in card["detail_html"] and "<script" not in card["detail_html"]


def test_feedback_reaches_the_cds_service_and_is_idempotent(demo):
    _, body = post(
        demo,
        "/demo-ehr/api/patients/sepsis-adult/hooks/order-select",
        {"drafts": ["ceftriaxone-1g"]},
    )
    card = body["cards"][0]
    feedback = {
        "service": body["service"],
        "card": card["uuid"],
        "outcome": "overridden",
        "reason": card["overrideReasons"][0]["code"],
    }
    status, recorded = post(demo, "/demo-ehr/api/feedback", feedback)
    assert status == 200
    assert recorded["recorded"] + recorded["alreadyRecorded"] == 1


def test_a_dismissal_without_a_chosen_reason_is_refused_with_a_readable_message(demo):
    _, body = post(
        demo,
        "/demo-ehr/api/patients/sepsis-adult/hooks/order-select",
        {"drafts": ["ceftriaxone-1g"]},
    )
    feedback = {"service": body["service"], "card": body["cards"][0]["uuid"]}
    status, refused = post(demo, "/demo-ehr/api/feedback", {**feedback, "outcome": "overridden"})
    assert status == 400 and refused["error"]["code"] == "reason_required"
    assert refused["error"]["message"] == "Choose a reason before you dismiss this card."
    status, _ = post(demo, "/demo-ehr/api/feedback", {**feedback, "outcome": "accepted"})
    assert status == 200  # accepting a card needs no reason


def test_order_sign_and_patient_view_are_called_too(demo):
    status, _ = post(demo, "/demo-ehr/api/patients/hfref-adult/hooks/patient-view", {"drafts": []})
    assert status == 200
    status, body = post(
        demo, "/demo-ehr/api/patients/uri-child/hooks/order-sign", {"drafts": ["amoxicillin-susp"]}
    )
    assert status == 200
    assert any(
        "bronchitis-antibiotics-children" in c["links"][0]["appContext"] for c in body["cards"]
    )


def test_unknown_orders_and_patients_are_clear_errors(demo):
    status, body = post(
        demo,
        "/demo-ehr/api/patients/sepsis-adult/hooks/order-select",
        {"drafts": ["no-such-order"]},
    )
    assert status == 400 and body["error"]["field"] == "drafts"
    status, body = post(demo, "/demo-ehr/api/patients/nobody/hooks/order-select", {"drafts": []})
    assert status == 404


def test_reset_lets_the_demo_show_a_card_again(demo):
    hook = "/demo-ehr/api/patients/sepsis-adult/hooks/order-select"
    assert post(demo, hook, {"drafts": ["ceftriaxone-1g"]})[1]["cards"]
    assert post(demo, hook, {"drafts": ["ceftriaxone-1g"]})[1]["cards"] == []  # not repeated
    status, _ = post(demo, "/demo-ehr/api/patients/sepsis-adult/reset", {})
    assert status == 200
    assert post(demo, hook, {"drafts": ["ceftriaxone-1g"]})[1]["cards"]


def test_a_topic_the_clinician_mastered_stays_quiet_in_the_demo_ehr(instance_path):
    """The demo EHR names its FHIR server, so the clinician's mastery (from the app) reaches CDS."""
    from app.identity import learner_id
    from app.learning.mastery import TopicMastery

    config = {"TESTING": True, "DEMO": True, "DATABASE": str(instance_path / "b.db")}
    app = create_app({**config, "CDS_REPEAT_MINUTES": 0}, instance_path=instance_path)
    hook = "/demo-ehr/api/patients/sepsis-adult/hooks/order-select"
    with LiveServer(app) as server:
        issuer = f"{server.url}/fhir"  # the iss the demo EHR gives SMART launches
        key = str(app.config["LEDGER_IDENTITY_KEY"]).encode()
        learner = learner_id(key, issuer, f"{issuer}/Practitioner/dr-ed-okafor")
        app.extensions["learning"].save_mastery(
            learner, {"sepsis-hour-1-bundle": TopicMastery(0.9, 5)}
        )
        assert post(server, hook, {"drafts": ["ceftriaxone-1g"]})[1]["cards"]
        assert post(server, hook, {"drafts": ["ceftriaxone-1g"]})[1]["cards"] == []

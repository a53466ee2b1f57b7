"""The CDS services end to end through HTTP: discovery, hooks, validation, languages, feedback."""

from __future__ import annotations

import json

import pytest

from app import create_app
from app.db import close_stores
from app.library.loader import load_library
from app.settings import REPO_ROOT
from cds_hooks.services import PREFETCH
from tests.cds_hooks.conftest import CdsCaller
from tests.cds_hooks.hook_requests import draft_medication, hook_request, prefetch_for
from tests.cds_hooks.jwt_helpers import make_ec_key, public_jwks, sign_client_token

SEPSIS = "sepsis-adult"


def sepsis_order_select(fixture_store, **extra):
    """The demo story: the ED doctor drafts ceftriaxone for the sepsis patient."""
    return hook_request(
        "order-select",
        SEPSIS,
        prefetch=prefetch_for(fixture_store, SEPSIS),
        draft_orders=[draft_medication(SEPSIS)],
        encounter_id="sepsis-adult-ed-visit",
        **extra,
    )


def test_discovery_lists_the_three_services_with_prefetch(cds):
    response = cds.get("/cds-services")
    assert response.status_code == 200
    services = {service["id"]: service for service in response.json["services"]}
    assert {s["hook"] for s in services.values()} == {"order-select", "order-sign", "patient-view"}
    for service in services.values():
        assert service["title"] and service["description"]
        assert service["prefetch"] == PREFETCH
        assert "_count=" in service["prefetch"]["observations"]


def shipped_version(module_id: str) -> str:
    """The version of a module as the repository ships it."""
    return str(load_library(REPO_ROOT / "content").modules[module_id]["version"])


def test_sepsis_patient_with_a_drafted_antibiotic_gets_the_hour_1_card(cds, fixture_store):
    response = cds.hook("bedside-order-select", sepsis_order_select(fixture_store))
    assert response.status_code == 200
    (card,) = [c for c in response.json["cards"] if "sepsis" in c["links"][0]["appContext"]]
    assert json.loads(card["links"][0]["appContext"]) == {
        "module": "sepsis-hour-1-bundle",
        "version": shipped_version("sepsis-hour-1-bundle"),
    }
    assert card["links"][0]["url"] == "http://localhost/launch.html"
    assert "ceftriaxone 1000 MG Injection" in card["detail"]
    assert "RxNorm 1665021" in card["detail"]
    assert "Draft content" in card["detail"]
    suggestion = card["suggestions"][0]
    resource = suggestion["actions"][0]["resource"]
    assert resource["subject"] == {"reference": f"Patient/{SEPSIS}"}
    assert resource["encounter"] == {"reference": "Encounter/sepsis-adult-ed-visit"}


def test_missing_encounter_drops_the_encounter_reference_from_suggestions(cds, fixture_store):
    body = sepsis_order_select(fixture_store)
    del body["context"]["encounterId"]
    card = cds.hook("bedside-order-select", body).json["cards"][0]
    assert "encounter" not in card["suggestions"][0]["actions"][0]["resource"]


def test_no_cards_when_nothing_fits(cds, fixture_store):
    body = hook_request("order-select", SEPSIS, prefetch=prefetch_for(fixture_store, SEPSIS))
    response = cds.hook("bedside-order-select", body)
    assert response.status_code == 200
    assert response.json == {"cards": []}


def test_every_hook_answers(cds, fixture_store):
    for service_id, hook in [
        ("bedside-order-sign", "order-sign"),
        ("bedside-patient-view", "patient-view"),
    ]:
        body = hook_request(
            hook, "hfref-adult", prefetch=prefetch_for(fixture_store, "hfref-adult")
        )
        assert cds.hook(service_id, body).status_code == 200


def test_spanish_when_the_client_prefers_it(cds, fixture_store):
    response = cds.hook(
        "bedside-order-select",
        sepsis_order_select(fixture_store),
        **{"Accept-Language": "es-MX,es;q=0.9"},
    )
    card = response.json["cards"][0]
    assert "Por qué ve esta tarjeta" in card["detail"]
    assert card["links"][0]["label"].startswith("Abrir")
    assert response.mimetype == "application/json"
    assert "Por qué".encode() in response.data  # UTF-8 JSON, not \u escapes


def test_card_count_is_capped(cds_config, instance_path, ec_key, fixture_store):
    from app import create_app
    from tests.cds_hooks.conftest import CdsCaller

    app = create_app({**cds_config, "CDS_MAX_CARDS": 0}, instance_path=instance_path)
    caller = CdsCaller(app.test_client(), ec_key)
    assert caller.hook("bedside-order-select", sepsis_order_select(fixture_store)).json == {
        "cards": []
    }


@pytest.mark.parametrize(
    "mutate,field",
    [
        (lambda b: b.pop("hook"), "hook"),
        (lambda b: b.pop("hookInstance"), "hookInstance"),
        (lambda b: b.update(hookInstance="not-a-uuid"), "hookInstance"),
        (lambda b: b.pop("context"), "context"),
        (lambda b: b["context"].pop("patientId"), "context.patientId"),
        (lambda b: b["context"].pop("userId"), "context.userId"),
        (lambda b: b["context"].pop("draftOrders"), "context.draftOrders"),
        (lambda b: b["context"].update(selections=[]), "context.selections"),
        (
            lambda b: b.update(fhirAuthorization={"access_token": "t"}),
            "fhirAuthorization.token_type",
        ),
        (lambda b: b.update(hook="patient-view"), "hook"),
    ],
)
def test_malformed_requests_are_400_naming_the_field(cds, fixture_store, mutate, field):
    body = sepsis_order_select(fixture_store)
    mutate(body)
    response = cds.hook("bedside-order-select", body)
    assert response.status_code == 400
    assert response.json["error"]["field"] == field
    assert field in response.json["error"]["message"]


def test_fhir_authorization_needs_a_fhir_server(cds, fixture_store):
    body = sepsis_order_select(fixture_store, access_token="tok")
    response = cds.hook("bedside-order-select", body)
    assert response.status_code == 400
    assert "fhirServer is required" in response.json["error"]["message"]


def test_non_json_body_is_400(cds):
    response = cds.client.post(
        "/cds-services/bedside-order-select",
        data="{not json",
        headers={"Authorization": f"Bearer {cds.token('/cds-services/bedside-order-select')}"},
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_json"


def test_unknown_service_is_404(cds, fixture_store):
    response = cds.hook("no-such-service", sepsis_order_select(fixture_store))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "unknown_service"


def test_same_module_is_not_repeated_on_every_re_fire(cds, fixture_store):
    first = cds.hook("bedside-order-select", sepsis_order_select(fixture_store)).json["cards"]
    again = cds.hook("bedside-order-select", sepsis_order_select(fixture_store)).json["cards"]
    assert "sepsis-hour-1-bundle" in first[0]["links"][0]["appContext"]
    assert all("sepsis-hour-1-bundle" not in card["links"][0]["appContext"] for card in again)


def test_another_user_still_sees_the_card(cds, fixture_store):
    cds.hook("bedside-order-select", sepsis_order_select(fixture_store))
    other = sepsis_order_select(fixture_store, user_id="Practitioner/dr-other")
    assert cds.hook("bedside-order-select", other).json["cards"]


def overridden(card_uuid: str, timestamp="2026-03-10T14:05:00Z") -> dict:
    """Feedback that the clinician overrode a card."""
    return {
        "feedback": [
            {
                "card": card_uuid,
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {
                        "code": "not-applicable",
                        "system": "https://fhir.bedside.example/CodeSystem/override-reason",
                    },
                    "userComment": "patient-specific text that must not be stored",
                },
                "outcomeTimestamp": timestamp,
            }
        ]
    }


def test_feedback_is_recorded_once_and_snoozes_the_module_for_that_user(
    cds_config, instance_path, ec_key, fixture_store
):
    from app import create_app
    from tests.cds_hooks.conftest import CdsCaller

    app = create_app({**cds_config, "CDS_REPEAT_MINUTES": 0}, instance_path=instance_path)
    caller = CdsCaller(app.test_client(), ec_key)
    card = caller.hook("bedside-order-select", sepsis_order_select(fixture_store)).json["cards"][0]
    path = "/cds-services/bedside-order-select/feedback"
    first = caller.post(path, overridden(card["uuid"]))
    second = caller.post(path, overridden(card["uuid"]))
    assert first.json == {"recorded": 1, "alreadyRecorded": 0, "unknownCards": 0}
    assert second.json == {"recorded": 0, "alreadyRecorded": 1, "unknownCards": 0}
    later = caller.hook("bedside-order-select", sepsis_order_select(fixture_store)).json["cards"]
    assert all("sepsis-hour-1-bundle" not in c["links"][0]["appContext"] for c in later)
    stored = (instance_path / "bedside.db").read_bytes()
    assert b"must not be stored" not in stored
    assert SEPSIS.encode() not in stored


def test_feedback_for_an_unknown_card_is_counted_not_stored(cds):
    response = cds.post(
        "/cds-services/bedside-order-select/feedback",
        overridden("0b4e5a7c-2b56-4a0e-9a3e-1f8d3c5b7a91"),
    )
    assert response.json == {"recorded": 0, "alreadyRecorded": 0, "unknownCards": 1}


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "feedback"),
        ({"feedback": []}, "feedback"),
        (
            {
                "feedback": [
                    {"card": "x", "outcome": "accepted", "outcomeTimestamp": "2026-03-10T14:05:00Z"}
                ]
            },
            "feedback.0.card",
        ),
        (
            {
                "feedback": [
                    {
                        "card": "0b4e5a7c-2b56-4a0e-9a3e-1f8d3c5b7a91",
                        "outcome": "ignored",
                        "outcomeTimestamp": "2026-03-10T14:05:00Z",
                    }
                ]
            },
            "feedback.0.outcome",
        ),
        (
            {
                "feedback": [
                    {
                        "card": "0b4e5a7c-2b56-4a0e-9a3e-1f8d3c5b7a91",
                        "outcome": "accepted",
                        "outcomeTimestamp": "yesterday",
                    }
                ]
            },
            "feedback.0.outcomeTimestamp",
        ),
    ],
)
def test_malformed_feedback_is_400(cds, body, field):
    response = cds.post("/cds-services/bedside-order-select/feedback", body)
    assert response.status_code == 400
    assert response.json["error"]["field"] == field


def test_cors_preflight_needs_no_auth(cds):
    response = cds.client.options(
        "/cds-services/bedside-order-select",
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_cors_allow_list_echoes_only_listed_origins(cds_config, instance_path):
    from app import create_app

    app = create_app(
        {**cds_config, "CDS_CORS_ORIGINS": "https://ehr.example"}, instance_path=instance_path
    )
    client = app.test_client()
    listed = client.options("/cds-services", headers={"Origin": "https://ehr.example"})
    other = client.options("/cds-services", headers={"Origin": "https://evil.example"})
    assert listed.headers["Access-Control-Allow-Origin"] == "https://ehr.example"
    assert "Origin" in listed.headers["Vary"]
    assert "Access-Control-Allow-Origin" not in other.headers


def test_only_the_client_a_card_went_to_may_give_feedback_on_it(
    cds_config, instance_path, ec_key, clients_file, fixture_store
):
    """Another trusted EHR cannot snooze a module for someone else's user, nor probe for cards."""
    other_key = make_ec_key("other-ehr")
    trusted = json.loads(clients_file.read_text())
    trusted.append({"iss": "https://other-ehr.test.example", "jwks": public_jwks(other_key)})
    clients_file.write_text(json.dumps(trusted))
    app = create_app({**cds_config, "CDS_REPEAT_MINUTES": 0}, instance_path=instance_path)
    ehr = CdsCaller(app.test_client(), ec_key)
    card = ehr.hook("bedside-order-select", sepsis_order_select(fixture_store)).json["cards"][0]
    path = "/cds-services/bedside-order-select/feedback"
    token = sign_client_token(
        other_key,
        iss="https://other-ehr.test.example",
        aud=f"http://localhost{path}",
        kid=other_key.kid,
        alg="ES384",
    )
    other = app.test_client().post(
        path, json=overridden(card["uuid"]), headers={"Authorization": f"Bearer {token}"}
    )
    later = ehr.hook("bedside-order-select", sepsis_order_select(fixture_store)).json["cards"]
    own = ehr.post(path, overridden(card["uuid"]))
    close_stores(app)
    assert other.json == {"recorded": 0, "alreadyRecorded": 0, "unknownCards": 1}
    assert any("sepsis-hour-1-bundle" in c["links"][0]["appContext"] for c in later)
    assert own.json == {"recorded": 1, "alreadyRecorded": 0, "unknownCards": 0}

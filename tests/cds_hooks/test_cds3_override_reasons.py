"""Override reasons: CDS Hooks 3.0 non-adherence codes on cards; feedback keeps code and system."""

from __future__ import annotations

import json
import sqlite3

import pytest
import requests
from pydantic import ValidationError
from sqlite_utils import Database

from app import create_app
from app.database import Database as AppDatabase
from app.database import sqlite_path_url
from cds_hooks import store as cds_store
from cds_hooks.models import Source
from cds_hooks.store import CdsStore
from tests.cds_hooks.hook_requests import draft_medication, hook_request, prefetch_for
from tests.library.helpers import MODULE_FILE, assert_fails, good_module, listing, run_check
from tests.support.live_server import LiveServer

NON_ADHERENCE = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
BEDSIDE = "https://fhir.bedside.example/CodeSystem/override-reason"
SERVICE = "bedside-order-select"
SEPSIS = "sepsis-adult"


@pytest.fixture
def cds_config(cds_config):
    """The suite's configuration, showing a card again however recently it was shown."""
    return {**cds_config, "CDS_REPEAT_MINUTES": 0}


def sepsis_card(cds, fixture_store, **headers) -> dict:
    """The sepsis hour-1 card for a drafted antibiotic."""
    body = hook_request(
        "order-select",
        SEPSIS,
        prefetch=prefetch_for(fixture_store, SEPSIS),
        draft_orders=[draft_medication(SEPSIS)],
    )
    cards = cds.hook(SERVICE, body, **headers).json["cards"]
    (card,) = [c for c in cards if "sepsis-hour-1-bundle" in c["links"][0]["appContext"]]
    return card


def reasons_by_code(card: dict) -> dict[str, dict]:
    """The card's override reasons by code."""
    return {reason["code"]: reason for reason in card["overrideReasons"]}


def test_cards_offer_general_reasons_from_the_cds_hooks_3_code_system(cds, fixture_store):
    english = reasons_by_code(sepsis_card(cds, fixture_store))
    spanish = reasons_by_code(sepsis_card(cds, fixture_store, **{"Accept-Language": "es"}))
    assert english["cds-not-applicable"] == {
        "code": "cds-not-applicable",
        "system": NON_ADHERENCE,
        "display": "Not applicable to this patient",
    }
    assert spanish["cds-not-applicable"]["display"] == "No aplica a este paciente"
    for code in ("need-more-info", "recipient-disagrees-evidence"):
        assert english[code]["system"] == spanish[code]["system"] == NON_ADHERENCE
        assert english[code]["display"] != spanish[code]["display"]
    # what only this guideline can say stays a Bedside reason
    assert english["cultures-already-drawn"]["system"] == BEDSIDE
    assert "not-applicable" not in english  # replaced by its 3.0 equivalent


def overridden(card_uuid: str, reason: dict) -> dict:
    """Feedback that the clinician overrode a card for a reason."""
    item = {
        "card": card_uuid,
        "outcome": "overridden",
        "overrideReason": {"reason": reason},
        "outcomeTimestamp": "2026-03-10T14:05:00Z",
    }
    return {"feedback": [item]}


def stored_reasons(cds_config) -> set[tuple]:
    """The (code, system) of every stored feedback entry."""
    with sqlite3.connect(cds_config["DATABASE"]) as connection:
        rows = connection.execute(
            "SELECT override_reason, override_reason_system FROM cds_feedback"
        )
        return set(rows.fetchall())


@pytest.mark.parametrize(
    ("reason", "stored"),
    [
        ({"system": NON_ADHERENCE, "code": "need-more-info"}, ("need-more-info", NON_ADHERENCE)),
        # a CDS Hooks 2.0 client answering with Bedside's own codes, as before
        (
            {"system": BEDSIDE, "code": "cultures-already-drawn"},
            ("cultures-already-drawn", BEDSIDE),
        ),
        ({"code": "cultures-already-drawn"}, ("cultures-already-drawn", None)),
    ],
)
def test_feedback_stores_the_reason_code_and_its_system(
    cds, cds_config, fixture_store, reason, stored
):
    card = sepsis_card(cds, fixture_store)
    response = cds.post(f"/cds-services/{SERVICE}/feedback", overridden(card["uuid"], reason))
    assert response.json == {"recorded": 1, "alreadyRecorded": 0, "unknownCards": 0}
    assert stored_reasons(cds_config) == {stored}


@pytest.mark.parametrize(
    "member",
    [
        {"extension": {"https://ehr.example/fhir/StructureDefinition/picked-by": "nurse"}},
        {"userSelected": True},
    ],
    ids=["extension", "userSelected"],
)
def test_a_reason_coding_with_extension_or_user_selected_is_recorded(
    cds, cds_config, fixture_store, member
):
    """CDS Hooks reserves `extension`, and its Coding trims FHIR's: such members are tolerated."""
    card = sepsis_card(cds, fixture_store)
    reason = {"system": NON_ADHERENCE, "code": "need-more-info", **member}
    response = cds.post(f"/cds-services/{SERVICE}/feedback", overridden(card["uuid"], reason))
    assert response.status_code == 200, response.json
    assert response.json == {"recorded": 1, "alreadyRecorded": 0, "unknownCards": 0}
    assert stored_reasons(cds_config) == {("need-more-info", NON_ADHERENCE)}


def test_codings_in_bedside_responses_stay_strict():
    topic = {"code": "sepsis", "userSelected": True}
    with pytest.raises(ValidationError, match="userSelected"):
        Source(label="Bedside", topic=topic)


@pytest.mark.parametrize(
    "reason",
    [
        {"system": NON_ADHERENCE, "code": "need-more-info\u0000"},
        {"system": f"{NON_ADHERENCE}\u0000", "code": "need-more-info"},
        {"code": "need\nmore-info"},
    ],
)
def test_a_reason_with_a_control_character_is_a_400_and_nothing_is_stored(
    cds, cds_config, fixture_store, reason
):
    """PostgreSQL stores no NUL: such a code was a 500 there (SQLite kept it)."""
    card = sepsis_card(cds, fixture_store)
    body = overridden(card["uuid"], reason)
    response = cds.post(f"/cds-services/{SERVICE}/feedback", body)
    assert response.status_code == 400
    assert response.json["error"]["field"].startswith("feedback.0.overrideReason.reason.")
    assert stored_reasons(cds_config) == set()


def test_a_timestamp_with_a_nul_is_a_400_and_nothing_is_stored(cds, cds_config, fixture_store):
    """The time is stored as sent: a NUL in it was a 500 on PostgreSQL."""
    card = sepsis_card(cds, fixture_store)
    body = overridden(card["uuid"], {"system": NON_ADHERENCE, "code": "need-more-info"})
    body["feedback"][0]["outcomeTimestamp"] += "\u0000"
    response = cds.post(f"/cds-services/{SERVICE}/feedback", body)
    assert response.status_code == 400
    assert response.json["error"]["field"] == "feedback.0.outcomeTimestamp"
    assert stored_reasons(cds_config) == set()


def test_feedback_sent_as_a_form_content_type_is_still_read_as_json(cds, cds_config, fixture_store):
    """`curl -d @feedback.json` says form-urlencoded: the NUL check must not consume the body."""
    card = sepsis_card(cds, fixture_store)
    path = f"/cds-services/{SERVICE}/feedback"
    body = overridden(card["uuid"], {"system": NON_ADHERENCE, "code": "need-more-info"})
    response = cds.client.post(
        path,
        data=json.dumps(body),
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {cds.token(path)}"},
    )
    assert response.json == {"recorded": 1, "alreadyRecorded": 0, "unknownCards": 0}
    assert stored_reasons(cds_config) == {("need-more-info", NON_ADHERENCE)}


def test_the_migration_splits_reasons_stored_as_system_bar_code(tmp_path):
    path = tmp_path / "old.db"
    old = Database(sqlite3.connect(path))
    cds_store.migrations.apply(old, stop_before="record_override_reason_systems")
    rows = [
        ("k1", f"{BEDSIDE}|not-applicable"),
        ("k2", "|cultures-already-drawn"),  # feedback from a client that sent no system
        ("k3", None),  # accepted cards have no reason
    ]
    for key, reason in rows:
        old["cds_feedback"].insert(
            {"feedback_key": key, "outcome": "overridden", "override_reason": reason}
        )
    old.conn.commit()
    old.conn.close()
    upgraded = AppDatabase(sqlite_path_url(path))
    CdsStore(upgraded)
    upgraded.dispose()
    with sqlite3.connect(path) as connection:
        migrated = connection.execute(
            "SELECT feedback_key, override_reason, override_reason_system FROM cds_feedback"
        ).fetchall()
    assert sorted(migrated) == [
        ("k1", "not-applicable", BEDSIDE),
        ("k2", "cultures-already-drawn", None),
        ("k3", None, None),
    ]


def module_with_reason(reason: dict) -> dict:
    """The checker's good module with one more override reason."""
    module = good_module()
    module["card"]["override_reasons"].append(reason)
    return module


def test_content_check_accepts_published_non_adherence_codes(tmp_path):
    display = {"en": "Need more information", "es": "Se necesita más información"}
    reason = {"code": "need-more-info", "system": NON_ADHERENCE, "display": display}
    report = run_check(tmp_path, module_with_reason(reason))
    assert report.ok, listing(report)


@pytest.mark.parametrize(
    ("reason", "field"),
    [
        ({"code": "doctor-busy", "system": NON_ADHERENCE}, "code"),  # not a published code
        ({"code": "need-more-info", "system": "http://example.org/reasons"}, "system"),
    ],
)
def test_content_check_refuses_unpublished_codes_and_unknown_systems(tmp_path, reason, field):
    reason = {**reason, "display": {"en": "Some reason", "es": "Algún motivo"}}
    report = run_check(tmp_path, module_with_reason(reason))
    index = len(good_module()["card"]["override_reasons"])
    assert_fails(report, MODULE_FILE, f"card.override_reasons[{index}].{field}", "is not one of")


def test_the_demo_ehr_sends_the_reason_system_it_was_offered(instance_path):
    database = instance_path / "demo.db"
    app = create_app(
        {"TESTING": True, "DEMO": True, "DATABASE": str(database)}, instance_path=instance_path
    )
    with LiveServer(app) as demo:
        hook = "/demo-ehr/api/patients/sepsis-adult/hooks/order-select"
        reply = requests.post(demo.url + hook, json={"drafts": ["ceftriaxone-1g"]}, timeout=15)
        (card,) = reply.json()["cards"]
        offered = reasons_by_code(card)["need-more-info"]
        feedback = {
            "service": reply.json()["service"],
            "card": card["uuid"],
            "outcome": "overridden",
            "reason": offered["code"],
            "system": offered["system"],
        }
        sent = requests.post(demo.url + "/demo-ehr/api/feedback", json=feedback, timeout=15)
        assert sent.json()["recorded"] == 1
    assert stored_reasons({"DATABASE": str(database)}) == {("need-more-info", NON_ADHERENCE)}

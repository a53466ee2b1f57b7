"""A feedback listener that fails never fails the EHR's feedback call nor the rest of its batch."""

from __future__ import annotations

import contextlib
import logging

import pytest

from app.collaboration import init_collaboration
from app.collaboration.editorial_commands import sync_command
from tests.cds_hooks.hook_requests import PRACTITIONER, draft_medication, hook_request, prefetch_for

NON_ADHERENCE = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
SERVICE = "bedside-order-select"
SEPSIS = "sepsis-adult"
SEPSIS_MODULE = "sepsis-hour-1-bundle"


@pytest.fixture
def cds_config(cds_config):
    """The suite's configuration, showing a card again however recently it was shown."""
    return {**cds_config, "CDS_REPEAT_MINUTES": 0}


def sepsis_cards(cds, fixture_store) -> list[dict]:
    """The cards an order-select hook returns for a drafted antibiotic in sepsis."""
    body = hook_request(
        "order-select",
        SEPSIS,
        prefetch=prefetch_for(fixture_store, SEPSIS),
        draft_orders=[draft_medication(SEPSIS)],
    )
    return cds.hook(SERVICE, body).json["cards"]


def sepsis_card(cds, fixture_store) -> dict:
    """The sepsis hour-1 card."""
    (card,) = [
        c for c in sepsis_cards(cds, fixture_store) if SEPSIS_MODULE in c["links"][0]["appContext"]
    ]
    return card


def critique(card_uuid: str) -> dict:
    """Feedback overriding a card because the clinician disagrees with its evidence."""
    return {
        "card": card_uuid,
        "outcome": "overridden",
        "overrideReason": {
            "reason": {"code": "recipient-disagrees-evidence", "system": NON_ADHERENCE}
        },
        "outcomeTimestamp": "2026-03-10T14:05:00Z",
    }


@contextlib.contextmanager
def collaboration_store_failing(app):
    """The collaboration store refuses every new queue item while the block runs."""
    database = init_collaboration(app).store.database
    with database.write() as connection:
        connection.exec_driver_sql(
            "CREATE TRIGGER test_refuse_items BEFORE INSERT ON collab_items"
            " BEGIN SELECT RAISE(ABORT, 'the disk is full'); END"
        )
    try:
        yield
    finally:
        with database.write() as connection:
            connection.exec_driver_sql("DROP TRIGGER test_refuse_items")


def test_a_failing_listener_is_logged_and_the_batch_is_recorded_then_sync_files_it(
    cds, cds_app, fixture_store, caplog
):
    cards = [sepsis_card(cds, fixture_store)["uuid"] for _ in range(2)]
    batch = {"feedback": [critique(uuid) for uuid in cards]}
    with collaboration_store_failing(cds_app), caplog.at_level(logging.WARNING):
        response = cds.post(f"/cds-services/{SERVICE}/feedback", batch)
    assert response.status_code == 200
    assert response.json == {"recorded": 2, "alreadyRecorded": 0, "unknownCards": 0}
    later = sepsis_cards(cds, fixture_store)  # the override snoozed the module for this user
    assert all(SEPSIS_MODULE not in c["links"][0]["appContext"] for c in later)
    failures = [r.getMessage() for r in caplog.records if "listener" in r.getMessage()]
    assert (
        failures == ["CDS feedback listener Collaboration.file_override failed: IntegrityError"] * 2
    )
    for identifier in (PRACTITIONER, SEPSIS, *cards, "Bearer"):
        assert identifier not in caplog.text
    assert init_collaboration(cds_app).store.items() == []

    synced = cds_app.test_cli_runner().invoke(sync_command)
    assert synced.exit_code == 0, synced.output
    assert synced.output.startswith("Filed 2 new item(s) from CDS overrides")
    assert len(init_collaboration(cds_app).store.items()) == 2

"""CDS users and patients are hashed with their own key: rotating the session key keeps snoozes."""

from __future__ import annotations

import logging

from app import create_app
from app.db import close_stores
from tests.cds_hooks.conftest import CdsCaller
from tests.cds_hooks.test_service import overridden, sepsis_order_select

SERVICE = "bedside-order-select"
MODULE = "sepsis-hour-1-bundle"


def call(config, instance_path, ec_key, fixture_store, *, override: bool = False) -> bool:
    """Call order-select for the sepsis patient in a new app; tell whether its card was shown."""
    app = create_app({**config, "CDS_REPEAT_MINUTES": 0}, instance_path=instance_path)
    try:
        caller = CdsCaller(app.test_client(), ec_key)
        cards = caller.hook(SERVICE, sepsis_order_select(fixture_store)).json["cards"]
        sepsis = [card for card in cards if MODULE in card["links"][0]["appContext"]]
        if override and sepsis:
            caller.post(f"/cds-services/{SERVICE}/feedback", overridden(sepsis[0]["uuid"]))
        return bool(sepsis)
    finally:
        close_stores(app)


def test_rotating_the_session_key_keeps_a_clinicians_snooze(
    cds_config, instance_path, ec_key, fixture_store
):
    assert call(
        {**cds_config, "SECRET_KEY": "session-1"},
        instance_path,
        ec_key,
        fixture_store,
        override=True,
    )
    rotated = {**cds_config, "SECRET_KEY": "session-2"}
    assert not call(rotated, instance_path, ec_key, fixture_store)


def test_the_cds_identity_key_is_made_once_apart_from_the_session_key(cds_config, instance_path):
    first = create_app(cds_config, instance_path=instance_path)
    second = create_app(cds_config, instance_path=instance_path)
    try:
        made = (instance_path / "cds_identity_key").read_text().strip()
        assert len(made) == 64 and int(made, 16) >= 0
        assert first.config["CDS_IDENTITY_KEY"] == second.config["CDS_IDENTITY_KEY"] == made
        assert made not in {first.config["SECRET_KEY"], first.config["LEDGER_IDENTITY_KEY"]}
    finally:
        close_stores(first)
        close_stores(second)


def test_an_upgrade_keeps_snoozes_when_the_old_secret_key_becomes_the_cds_identity_key(
    cds_config, instance_path, ec_key, fixture_store
):
    before_upgrade = {**cds_config, "SECRET_KEY": "old-secret", "CDS_IDENTITY_KEY": "old-secret"}
    assert call(before_upgrade, instance_path, ec_key, fixture_store, override=True)
    after_upgrade = {**cds_config, "SECRET_KEY": "new-secret", "CDS_IDENTITY_KEY": "old-secret"}
    assert not call(after_upgrade, instance_path, ec_key, fixture_store)


def test_a_new_cds_identity_key_over_existing_snoozes_is_announced(
    cds_config, instance_path, ec_key, fixture_store, caplog
):
    old = {**cds_config, "CDS_IDENTITY_KEY": "old-secret"}
    assert call(old, instance_path, ec_key, fixture_store, override=True)
    with caplog.at_level(logging.WARNING, logger="app.cds_services"):
        shown_again = call(cds_config, instance_path, ec_key, fixture_store)
    assert shown_again  # the snooze was made under another key: it no longer applies
    assert "set BEDSIDE_CDS_IDENTITY_KEY to the secret key used before" in caplog.text


def test_a_fresh_install_makes_its_cds_identity_key_without_a_warning(
    cds_config, instance_path, caplog
):
    with caplog.at_level(logging.WARNING, logger="app.cds_services"):
        close_stores(create_app(cds_config, instance_path=instance_path))
    assert "BEDSIDE_CDS_IDENTITY_KEY" not in caplog.text

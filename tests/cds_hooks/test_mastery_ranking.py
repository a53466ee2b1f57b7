"""A clinician who has mastered a topic sees fewer cards on it (the learning signal in CDS)."""

from __future__ import annotations

import pytest

from app import create_app
from app.database import Database, parse_database_url
from app.identity import fhir_user_forms, learner_id
from app.learning.cds_signal import MasterySignal
from app.learning.mastery import TopicMastery
from cds_hooks.engine import ranked_by_mastery
from cds_hooks.matching import Match
from tests.cds_hooks.conftest import CdsCaller
from tests.cds_hooks.test_service import sepsis_order_select

EHR_FHIR = "https://ehr.test.example/fhir"
MODULE = "sepsis-hour-1-bundle"
MASTERED = {MODULE: TopicMastery(0.9, 4)}


def app_with(cds_config, instance_path, **settings):
    """A CDS app whose repeat rule is off, so only the mastery rule can hide a card."""
    config = {**cds_config, "CDS_REPEAT_MINUTES": 0, **settings}
    return create_app(config, instance_path=instance_path)


def give_mastery(app, fhir_user: str, mastery: dict) -> None:
    """Store mastery for the learner a SMART launch with this fhirUser at the EHR would be."""
    key = str(app.config["LEDGER_IDENTITY_KEY"]).encode()
    app.extensions["learning"].save_mastery(learner_id(key, EHR_FHIR, fhir_user), mastery)


def shown_modules(caller, fixture_store, user: str) -> list[str]:
    """The module ids of the cards one order-select call returns, in order."""
    body = sepsis_order_select(fixture_store, user_id=user, fhir_server=EHR_FHIR)
    cards = caller.hook("bedside-order-select", body).json["cards"]
    return [card["links"][0]["appContext"].split('"module": "')[1].split('"')[0] for card in cards]


def test_a_mastered_topic_is_shown_once_then_stays_quiet(
    cds_config, instance_path, ec_key, fixture_store
):
    app = app_with(cds_config, instance_path)
    give_mastery(app, f"{EHR_FHIR}/Practitioner/dr-master", MASTERED)
    caller = CdsCaller(app.test_client(), ec_key)
    assert MODULE in shown_modules(caller, fixture_store, "Practitioner/dr-master")
    assert MODULE not in shown_modules(caller, fixture_store, "Practitioner/dr-master")
    for _ in range(2):  # a learner without that mastery keeps seeing it
        assert MODULE in shown_modules(caller, fixture_store, "Practitioner/dr-novice")


def test_a_relative_fhir_user_finds_the_same_learner(
    cds_config, instance_path, ec_key, fixture_store
):
    app = app_with(cds_config, instance_path)
    give_mastery(app, "Practitioner/dr-master", MASTERED)
    caller = CdsCaller(app.test_client(), ec_key)
    shown_modules(caller, fixture_store, "Practitioner/dr-master")
    assert MODULE not in shown_modules(caller, fixture_store, "Practitioner/dr-master")


def test_too_few_answers_are_not_mastery(cds_config, instance_path, ec_key, fixture_store):
    app = app_with(cds_config, instance_path)
    give_mastery(app, f"{EHR_FHIR}/Practitioner/dr-lucky", {MODULE: TopicMastery(1.0, 1)})
    caller = CdsCaller(app.test_client(), ec_key)
    for _ in range(2):
        assert MODULE in shown_modules(caller, fixture_store, "Practitioner/dr-lucky")


def test_quiet_days_zero_keeps_showing_mastered_topics(
    cds_config, instance_path, ec_key, fixture_store
):
    app = app_with(cds_config, instance_path, CDS_MASTERED_QUIET_DAYS=0)
    give_mastery(app, f"{EHR_FHIR}/Practitioner/dr-master", MASTERED)
    caller = CdsCaller(app.test_client(), ec_key)
    for _ in range(2):
        assert MODULE in shown_modules(caller, fixture_store, "Practitioner/dr-master")


def test_mastery_at_another_ehr_does_not_count(cds_config, instance_path, ec_key, fixture_store):
    app = app_with(cds_config, instance_path)
    key = str(app.config["LEDGER_IDENTITY_KEY"]).encode()
    elsewhere = learner_id(key, "https://other-ehr.example/fhir", "Practitioner/dr-master")
    app.extensions["learning"].save_mastery(elsewhere, MASTERED)
    caller = CdsCaller(app.test_client(), ec_key)
    for _ in range(2):
        assert MODULE in shown_modules(caller, fixture_store, "Practitioner/dr-master")


def test_mastered_topics_rank_after_the_others_keeping_relevance_order():
    matches = [Match("a", 3, ()), Match("b", 2, ()), Match("c", 1, ())]
    ranked = ranked_by_mastery(matches, frozenset({"a"}))
    assert [m.module_id for m in ranked] == ["b", "c", "a"]
    assert ranked_by_mastery(matches, frozenset()) == matches


@pytest.mark.parametrize(
    "server, user", [(None, "Practitioner/x"), ("", "Practitioner/x"), (EHR_FHIR, " ")]
)
def test_without_a_server_or_user_nothing_is_mastered(database_url, server, user):
    database = Database(parse_database_url(database_url))
    assert MasterySignal(database, b"key")(server, user) == frozenset()
    database.dispose()


@pytest.mark.parametrize(
    "user, forms",
    [
        ("Practitioner/7", (f"{EHR_FHIR}/Practitioner/7", "Practitioner/7")),
        (f"{EHR_FHIR}/Practitioner/7", (f"{EHR_FHIR}/Practitioner/7",) * 2),
    ],
)
def test_fhir_user_forms_are_absolute_then_as_given(user, forms):
    assert fhir_user_forms(EHR_FHIR + "/", user) == forms

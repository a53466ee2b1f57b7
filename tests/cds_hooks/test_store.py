"""The CDS store on both engines: replay guard, exposures, feedback and the queries behind them."""

from __future__ import annotations

import threading
import time

import pytest

from app.database import Database
from cds_hooks.frequency import Showing
from cds_hooks.store import CdsStore, Exposure, FeedbackRecord, JtiClaim

NOW = time.time()
HOUR = 3600.0
ISS = "https://ehr.example"
SELECT, SIGN, VIEW = "bedside-order-select", "bedside-order-sign", "bedside-patient-view"


@pytest.fixture
def store(database):
    """A migrated CDS store."""
    return CdsStore(database)


def exposure(
    card: str, module: str, *, user="u1", patient="p1", shown_at=NOW, encounter="", service=SELECT
) -> Exposure:
    """A card shown to a user about a patient (in an encounter, when named)."""
    return Exposure(card, module, "1.0.0", service, user, patient, shown_at, ISS, encounter)


def snoozed(store: CdsStore, user: str, *, since: float) -> set[str]:
    """The modules this user overrode since a time (any patient)."""
    return store.snoozed_and_shown(user, "p1", [], overridden_since=since)[0]


def shown(store: CdsStore, user: str, patient: str, modules: list[str]) -> set[Showing]:
    """The latest showing of each of these modules to the user about the patient, per place.

    Read both ways (with the snoozes, and with what was acted on at signing): the two agree.
    """
    with_snoozes = store.snoozed_and_shown(user, patient, modules, overridden_since=NOW)[1]
    at_signing = acted_on_and_shown(store, user, patient, modules)[1]
    assert sorted(with_snoozes) == sorted(at_signing)
    return set(with_snoozes)


def acted_on_and_shown(
    store: CdsStore, user: str, patient: str, modules: list[str]
) -> tuple[set[str], list[Showing]]:
    """What hides modules at signing (any time), and the showings, read in one query."""
    return store.acted_on_and_shown(user, patient, modules, overridden_since=0, accepted_since=0)


def feedback(card: str, module: str, outcome: str, *, key=None, user="u1") -> FeedbackRecord:
    """Feedback on a card (overridden with a coded reason, or accepted)."""
    reason = (
        ("not-applicable", "https://bedside.example/reasons")
        if outcome == "overridden"
        else (None, None)
    )
    return FeedbackRecord(
        key or f"{card}-{outcome}",
        card,
        module,
        user,
        outcome,
        *reason,
        ("s1",),
        "2026-03-10T14:05:00Z",
    )


def test_racing_claims_of_one_jwt_id_have_exactly_one_winner(store):
    won: list[int] = []

    def claim(number: int) -> None:
        if store.claim_jti(ISS, "raced", 2_000_000_000):
            won.append(number)

    threads = [threading.Thread(target=claim, args=(number,)) for number in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


def test_claims_purging_at_once_all_succeed_and_keep_every_live_id(store, monkeypatch):
    monkeypatch.setattr("cds_hooks.store.JTI_PURGE_CHANCE", 0.0)
    for number in range(300):
        store.claim_jti(ISS, f"old-{number}", 1_000_000_000 + number % 7)
    monkeypatch.setattr("cds_hooks.store.JTI_PURGE_CHANCE", 1.0)  # every claim purges
    failures: list[BaseException] = []

    def claim_many(worker: int) -> None:
        try:
            for number in range(10):
                assert store.claim_jti(ISS, f"live-{worker}-{number}", 4_000_000_000)
        except BaseException as error:  # a deadlock or lock timeout between purges
            failures.append(error)

    threads = [threading.Thread(target=claim_many, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert all(store.jti_seen(ISS, f"live-{w}-{n}") for w in range(8) for n in range(10))
    assert not store.jti_seen(ISS, "old-0")


def test_a_second_store_on_the_same_database_sees_the_claim(database, store):
    other_host = CdsStore(Database(database.url))
    try:
        assert store.claim_jti(ISS, "j-1", 2_000_000_000)
        assert other_host.jti_seen(ISS, "j-1")
        assert not other_host.claim_jti(ISS, "j-1", 2_000_000_000)
    finally:
        other_host.database.dispose()


def test_a_replayed_call_records_none_of_its_cards(store):
    claim = (ISS, "j-1", 2_000_000_000)
    assert store.record_call([exposure("c1", "m1")], JtiClaim(*claim))
    assert not store.record_call([exposure("c2", "m2")], JtiClaim(*claim))
    assert store.exposure("c1") == exposure("c1", "m1")
    assert store.exposure("c2") is None


def test_an_exposure_reads_back_as_it_was_recorded(store):
    shown = exposure("c1", "m1", shown_at=1_765_000_000.123456)
    store.record_call([shown, shown])  # the same card twice is stored once
    assert store.exposure("c1") == shown
    assert store.exposure("unknown") is None


def test_an_override_snoozes_the_module_for_the_user_on_every_patient(store):
    store.record_call([exposure("c1", "m1", shown_at=NOW - 2 * HOUR)])
    store.record_feedback(feedback("c1", "m1", "overridden"))
    assert snoozed(store, "u1", since=NOW - HOUR) == {"m1"}
    assert snoozed(store, "u1", since=NOW + HOUR) == set()  # the snooze ended
    assert snoozed(store, "u2", since=0) == set()


def test_showings_are_the_latest_per_module_service_and_encounter_for_that_patient(store):
    store.record_call(
        [
            exposure("c1", "m1", shown_at=NOW - 2 * HOUR, encounter="e1", service=VIEW),
            exposure("c2", "m1", shown_at=NOW - HOUR, encounter="e1", service=VIEW),
            exposure("c3", "m1", shown_at=NOW - HOUR, encounter="e1", service=SIGN),
            exposure("c4", "m1", shown_at=NOW, encounter="e2"),
            exposure("c5", "m2", shown_at=NOW),
            exposure("c6", "m1", shown_at=NOW, patient="p2"),
        ]
    )
    assert shown(store, "u1", "p1", ["m1"]) == {
        Showing("m1", VIEW, "e1", NOW - HOUR),
        Showing("m1", SIGN, "e1", NOW - HOUR),
        Showing("m1", SELECT, "e2", NOW),
    }
    assert shown(store, "u1", "p1", ["m2", "m3"]) == {Showing("m2", SELECT, "", NOW)}
    assert shown(store, "u2", "p1", ["m1", "m2"]) == set()


def test_a_mastered_module_shown_lately_to_the_user_about_any_patient_is_left_out(store):
    store.record_call(
        [
            exposure("c1", "m1", shown_at=NOW, patient="p2"),
            exposure("c2", "m2", shown_at=NOW - 2 * HOUR),
            exposure("c3", "m3", shown_at=NOW, user="u2"),
        ]
    )

    def left_out(mastered: list[str], since: float) -> set[str]:
        hidden, _ = store.snoozed_and_shown(
            "u1", "p1", [], overridden_since=NOW, mastered=mastered, mastered_shown_since=since
        )
        return hidden

    assert left_out(["m1", "m2", "m3"], NOW - HOUR) == {"m1"}  # m2 too long ago, m3 to u2
    assert left_out(["m1", "m2", "m3"], NOW - 3 * HOUR) == {"m1", "m2"}
    assert left_out(["m2", "m3"], NOW - HOUR) == set()  # only mastered modules are left out
    assert left_out(["m1"], NOW + 1) == set()


def test_at_order_sign_only_acted_on_cards_stay_away(store):
    store.record_call([exposure("c1", "m1"), exposure("c2", "m2"), exposure("c3", "m3")])
    store.record_feedback(feedback("c1", "m1", "accepted"))
    store.record_feedback(feedback("c2", "m2", "overridden"))
    acted, showings = acted_on_and_shown(store, "u1", "p1", ["m1", "m2", "m3"])
    assert acted == {"m1", "m2"}  # m3 was only shown: it comes back at signing
    assert {showing.module_id for showing in showings} == {"m1", "m2", "m3"}
    elsewhere, _ = acted_on_and_shown(store, "u1", "p2", ["m1"])
    assert elsewhere == {"m2"}  # an acceptance holds for its patient only


def test_feedback_is_recorded_once(store):
    record = feedback("c1", "m1", "overridden")
    assert store.record_feedback(record)
    assert not store.record_feedback(record)


def test_forgetting_a_user_drops_their_exposures_and_feedback_only(store):
    assert not store.holds_identities()
    store.record_call([exposure("c1", "m1"), exposure("c2", "m2", user="u2")])
    store.record_feedback(feedback("c1", "m1", "overridden"))
    assert store.holds_identities()
    store.forget_user("u1")
    assert store.exposure("c1") is None and store.exposure("c2") is not None
    assert snoozed(store, "u1", since=0) == set()
    assert shown(store, "u1", "p1", ["m1", "m2"]) == set()
    store.forget_user("u2")
    assert not store.holds_identities()

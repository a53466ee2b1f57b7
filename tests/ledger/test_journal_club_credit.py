"""Journal-club credit: the pure rule, the exactly-once claim on both engines, the migration."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlite_utils import Database

from app.db import LEDGER_SETTINGS, connect
from app.ledger.credit import claim_journal_club_credit
from app.ledger.rules import ClubParticipation, CreditPolicy, HeldCredit, journal_club_credit
from app.ledger.schema import migrations
from app.ledger.store import SqlLedgerStore, ledger_database
from app.ledger.verify import verify_chain
from tests.ledger.helpers import ISSUER, KEY, T0, award, request

POLICY = CreditPolicy(journal_club_credit=(("ama-pra-category-1", Decimal("1.50")),))


def club(*offsets_hours: float, club_id: str = "club-1", **fields) -> ClubParticipation:
    """A club open for a week from T0, with reflections posted at these hours after T0."""
    return ClubParticipation(
        club_id=club_id,
        opens_at=T0,
        closes_at=T0 + timedelta(days=7),
        reflections_at=tuple(T0 + timedelta(hours=h) for h in offsets_hours),
        **fields,
    )


def on_module(status: str) -> dict:
    """A module version with this editorial status."""
    return {"id": "sepsis", "version": "2.0.0", "editorial": {"status": status}}


def test_the_facilitator_earns_no_credit_for_their_own_club():
    refusal = journal_club_credit(club(5, facilitating=True), [], POLICY)
    assert refusal.reason == "own-club"


def test_in_production_a_club_earns_credit_only_on_an_approved_module_version():
    production = replace(POLICY, approved_modules_only=True)
    [granted] = journal_club_credit(club(5, topic_module=on_module("approved")), [], production)
    assert granted.amount == Decimal("1.50")
    draft = journal_club_credit(club(5, topic_module=on_module("draft")), [], production)
    assert draft.reason == "module-not-approved"
    guideline = journal_club_credit(club(5), [], production)
    assert guideline.reason == "topic-not-approved"
    assert isinstance(
        journal_club_credit(club(5, topic_module=on_module("draft")), [], POLICY), list
    )


def test_a_reflection_in_the_window_earns_the_configured_credit():
    [granted] = journal_club_credit(club(5), [], POLICY)
    assert (granted.credit_type, granted.amount) == ("ama-pra-category-1", Decimal("1.50"))


@pytest.mark.parametrize("hours", [-1, 7 * 24 + 1])
def test_a_reflection_outside_the_window_earns_nothing(hours):
    refusal = journal_club_credit(club(hours), [], POLICY)
    assert refusal.reason == "no-reflection-in-window"


def test_both_ends_of_the_window_count():
    assert not hasattr(journal_club_credit(club(0), [], POLICY), "reason")
    assert not hasattr(journal_club_credit(club(7 * 24), [], POLICY), "reason")


def test_a_club_earns_once_and_the_annual_cap_applies():
    held = [HeldCredit("journal-club:club-1", "ama-pra-category-1", Decimal("1.50"), T0)]
    assert journal_club_credit(club(5), held, POLICY).reason == "duplicate"
    capped = CreditPolicy(
        journal_club_credit=POLICY.journal_club_credit,
        annual_cap={"ama-pra-category-1": Decimal("2.00")},
    )
    [granted] = journal_club_credit(club(5, club_id="club-2"), held, capped)
    assert granted.amount == Decimal("0.50")


def test_the_claim_is_recorded_once_per_member_and_club(store, learner):
    first = claim_journal_club_credit(store, POLICY, learner, club(30, 5), module_id="sepsis")
    again = claim_journal_club_credit(store, POLICY, learner, club(30, 5, 50), module_id="sepsis")
    assert first.created and not again.created
    assert again.records == first.records
    [record] = store.credits_for(learner)
    assert (record.activity_type, record.activity_key) == ("journal-club", "journal-club:club-1")
    assert record.earned_at.startswith("2026-03-10T19:00")  # the first reflection in the window
    assert record.module_id == "sepsis"
    assert verify_chain(store).ok


def test_each_club_and_each_member_earns_separately(store, learner):
    other = store.ensure_learner(ISSUER, "Practitioner/456")
    claim_journal_club_credit(store, POLICY, learner, club(5))
    claim_journal_club_credit(store, POLICY, learner, club(5, club_id="club-2"))
    claim_journal_club_credit(store, POLICY, other, club(6))
    assert len(store.credits_for(learner)) == 2
    assert len(store.credits_for(other)) == 1


def test_no_reflection_in_the_window_writes_nothing(store, learner):
    submission = claim_journal_club_credit(store, POLICY, learner, club(-3))
    assert submission.refusal.reason == "no-reflection-in-window"
    assert store.credits_for(learner) == []
    # a later reflection in the window still earns: the refusal did not use up the key
    assert claim_journal_club_credit(store, POLICY, learner, club(-3, 4)).records


def test_upgrading_keeps_every_record_and_the_append_only_guard(db_path):
    connection = connect(db_path, LEDGER_SETTINGS)
    migrations.apply(
        Database(connection, execute_plugins=False), stop_before="m006_journal_club_activity"
    )
    connection.close()
    old = SqlLedgerStore(ledger_database(db_path), KEY, migrate=False)
    learner = old.ensure_learner(ISSUER, "Practitioner/1")
    [credited] = old.append_credit(request(learner), [award()], "before-upgrade").records
    old.append_reversal(credited.sequence, "entered in error", "reversal-1")
    old.close()

    upgraded = SqlLedgerStore(ledger_database(db_path), KEY)
    try:
        assert len(upgraded.credits_for(learner)) == 2
        assert claim_journal_club_credit(upgraded, POLICY, learner, club(5)).records
        assert verify_chain(upgraded).ok
    finally:
        upgraded.close()
    with sqlite3.connect(db_path) as raw, pytest.raises(sqlite3.IntegrityError, match="append"):
        raw.execute("UPDATE ledger_credits SET amount_hundredths = 1")
    raw.close()

"""The journal club store on SQLite and PostgreSQL, and reflections that earn credit once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.collaboration.posting import POSTING_WINDOW, POSTS_PER_WINDOW, PostingTooFast
from app.database import parse_database_url
from app.journal_clubs.invites import InviteRefused, invite_token, invited_club
from app.journal_clubs.participation import claim_club_credit, settle_clubs
from app.journal_clubs.store import ClubClosed, ClubError, ClubNotFound, JournalClubStore
from app.ledger.models import PatientDataRefused
from app.ledger.rules import CreditPolicy
from app.ledger.store import SqlLedgerStore, ledger_database
from tests.ledger.helpers import ISSUER, KEY

NOW = datetime.now(UTC)
OPENS, CLOSES = NOW - timedelta(days=1), NOW + timedelta(days=6)


@pytest.fixture
def clubs(database) -> JournalClubStore:
    """The journal club store."""
    return JournalClubStore(database)


@pytest.fixture
def club_id(clubs) -> str:
    """A sepsis club facilitated by F1, open now."""
    return clubs.create_club(
        title="Sepsis bundle, hour 1",
        facilitator_id="F1",
        topic_kind="module",
        topic="sepsis-hour-1-bundle",
        topic_version="2.0.0",
        opens_at=OPENS,
        closes_at=CLOSES,
    )


def test_members_join_once_and_non_members_cannot_read_the_club(clubs, club_id):
    assert clubs.join(club_id, "L1") is True
    assert clubs.join(club_id, "L1") is False
    assert clubs.members(club_id) == ["F1", "L1"]
    assert clubs.club_for_member(club_id, "L1").title == "Sepsis bundle, hour 1"
    with pytest.raises(ClubNotFound):
        clubs.club_for_member(club_id, "L2")
    with pytest.raises(ClubNotFound):
        clubs.reflect(club_id, "L2", "More lactate checks", "Lab turnaround", NOW)
    assert [club.club_id for club in clubs.clubs_of("L1")] == [club_id]


def test_reflections_are_kept_in_the_window_and_refused_outside_it(clubs, club_id):
    clubs.join(club_id, "L1")
    clubs.reflect(club_id, "L1", "Repeat lactate within 2 h", "Busy nights", NOW)
    with pytest.raises(ClubClosed):
        clubs.reflect(club_id, "L1", "Too late", "None", CLOSES + timedelta(seconds=1))
    clubs.close(club_id, "F1", "We agreed to **repeat** lactate.", NOW)
    with pytest.raises(ClubClosed):
        clubs.reflect(club_id, "L1", "After closing", "None", NOW)
    [kept] = clubs.reflections(club_id)
    assert (kept.author_id, kept.practice_change, kept.barriers) == (
        "L1",
        "Repeat lactate within 2 h",
        "Busy nights",
    )
    assert clubs.club(club_id).summary == "We agreed to **repeat** lactate."


def test_only_the_facilitator_closes_the_club(clubs, club_id):
    clubs.join(club_id, "L1")
    with pytest.raises(ClubNotFound):
        clubs.close(club_id, "L1", "Done", NOW)
    assert clubs.club(club_id).closed_at is None


def test_patient_data_and_bad_windows_are_refused(clubs, club_id):
    clubs.join(club_id, "L1")
    with pytest.raises(PatientDataRefused):
        clubs.reflect(club_id, "L1", "MRN 48213377 taught me", "None", NOW)
    with pytest.raises(ClubError):
        clubs.create_club(
            title="Backwards",
            facilitator_id="F1",
            topic_kind="guideline",
            topic="Surviving Sepsis Campaign 2021",
            topic_version=None,
            opens_at=CLOSES,
            closes_at=OPENS,
        )
    assert clubs.reflections(club_id) == []


def test_a_reflection_earns_the_club_credit_once(clubs, club_id, database_url):
    ledger = SqlLedgerStore(ledger_database(parse_database_url(database_url)), KEY)
    try:
        learner = ledger.ensure_learner(ISSUER, "Practitioner/7")
        clubs.join(club_id, learner)
        answers = ("Repeat lactate within 2 h", "Lab turnaround")
        clubs.reflect(club_id, learner, *answers, NOW)
        first = claim_club_credit(clubs, ledger, CreditPolicy(), clubs.club(club_id), learner)
        clubs.reflect(club_id, learner, *answers, NOW + timedelta(hours=1))
        again = claim_club_credit(clubs, ledger, CreditPolicy(), clubs.club(club_id), learner)
        assert first.created and not again.created
        [record] = ledger.credits_for(learner)
        assert (record.activity_type, record.module_id) == ("journal-club", "sepsis-hour-1-bundle")
        assert len(clubs.reflections(club_id, learner)) == 2
    finally:
        ledger.close()


def test_settling_claims_the_credit_of_reflections_whose_claim_was_lost_once(
    clubs, club_id, database_url
):
    ledger = SqlLedgerStore(ledger_database(parse_database_url(database_url)), KEY)
    modules = {"sepsis-hour-1-bundle": {"id": "sepsis-hour-1-bundle", "version": "2.0.0"}}
    try:
        learners = [ledger.ensure_learner(ISSUER, f"Practitioner/{n}") for n in (8, 9)]
        for learner in learners:
            clubs.join(club_id, learner)
            clubs.reflect(club_id, learner, "Repeat lactate", "Lab turnaround", NOW)  # no claim
        clubs.reflect(club_id, learners[0], "Earlier antibiotics", "Staffing", NOW)
        assert clubs.reflecting_members() == sorted((club_id, learner) for learner in learners)
        assert settle_clubs(clubs, ledger, CreditPolicy(), modules) == 2
        assert settle_clubs(clubs, ledger, CreditPolicy(), modules) == 0
        for learner in learners:
            [record] = ledger.credits_for(learner)
            assert record.module_id == "sepsis-hour-1-bundle"
    finally:
        ledger.close()


def test_a_member_reflects_at_most_the_budget_in_the_window_and_reads_them_by_page(clubs, club_id):
    clubs.join(club_id, "L1")
    for number in range(POSTS_PER_WINDOW):
        clubs.reflect(club_id, "L1", f"Change {number}", "Time", NOW + timedelta(seconds=number))
    with pytest.raises(PostingTooFast):
        clubs.reflect(club_id, "L1", "One too many", "Time", NOW)
    later = NOW + POSTING_WINDOW + timedelta(seconds=1)  # the first ones left the window
    clubs.reflect(club_id, "L1", "After the window", "Time", later)
    assert clubs.reflection_count(club_id) == POSTS_PER_WINDOW + 1
    page_two = clubs.reflections(club_id, limit=5, offset=5)
    assert [r.practice_change for r in page_two] == [f"Change {n}" for n in range(5, 10)]


def test_an_invite_names_its_club_and_cannot_be_forged_or_outlive_its_time():
    token = invite_token("secret", "club-1")
    assert invited_club("secret", token) == "club-1"
    with pytest.raises(InviteRefused, match="not valid"):
        invited_club("another secret", token)
    with pytest.raises(InviteRefused, match="not valid"):
        invited_club("secret", token[:-2] + "xx")
    with pytest.raises(InviteRefused, match="expired"):
        invited_club("secret", token, max_age=-1)


def test_a_reflection_racing_the_close_is_refused_and_not_kept(clubs, club_id, monkeypatch):
    clubs.join(club_id, "L1")
    read_club = clubs.club_for_member

    def read_then_closed_elsewhere(club, member):
        found = read_club(club, member)
        JournalClubStore(clubs.database).close(club_id, "F1", "Closed on another host.", NOW)
        return found

    monkeypatch.setattr(clubs, "club_for_member", read_then_closed_elsewhere)
    with pytest.raises(ClubClosed):
        clubs.reflect(club_id, "L1", "Posted as it closed", "None", NOW)
    assert clubs.reflections(club_id) == []


def test_of_two_closes_at_once_the_second_is_told_and_the_first_summary_stands(
    clubs, club_id, monkeypatch
):
    read_club = clubs.club

    def read_then_closed_elsewhere(club):
        found = read_club(club)
        JournalClubStore(clubs.database).close(club_id, "F1", "The first summary.", NOW)
        return found

    monkeypatch.setattr(clubs, "club", read_then_closed_elsewhere)
    with pytest.raises(ClubClosed):
        clubs.close(club_id, "F1", "The second summary.", NOW)
    assert read_club(club_id).summary == "The first summary."

"""Journal-club credit in every export: CSV transcript, xAPI, PARS, badge, certificate wording."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.ledger.credit import claim_journal_club_credit
from app.ledger.outputs import badges, xapi
from app.ledger.outputs.pars import pars_batch
from app.ledger.outputs.settings import Accreditation
from app.ledger.outputs.transcript import transcript, transcript_csv
from app.ledger.rules import ClubParticipation, CreditPolicy
from tests.ledger.helpers import T0
from tests.ledger_outputs.test_xapi import validator
from tests.ledger_outputs.world import ALICE, BASE_URL, modules

POLICY = CreditPolicy(journal_club_credit=(("ama-pra-category-1", Decimal("1.00")),))
CLUB = ClubParticipation(
    club_id="club-7",
    opens_at=T0,
    closes_at=T0 + timedelta(days=14),
    reflections_at=(T0 + timedelta(days=2),),
)


@pytest.fixture
def member(store, world):
    """Alice, who also posted a reflection in a sepsis journal club and claimed its credit."""
    alice = world.learners["alice"]
    claim = claim_journal_club_credit(store, POLICY, alice, CLUB, module_id="sepsis-hour-1-bundle")
    assert claim.records
    return alice


def club_records(store):
    """The ledger's journal-club records."""
    return [r for r in store.iter_chain() if r.activity_type == "journal-club"]


def test_the_csv_transcript_names_the_journal_club(store, member):
    t = transcript(store, member, library=modules())
    rows = list(csv.DictReader(io.StringIO(transcript_csv(t))))
    [club] = [row for row in rows if row["activity_type"] == "journal-club"]
    assert club["amount"] == "1.00"
    assert [row.activity_label for row in t.rows if row.record.activity_type == "journal-club"] == [
        "Journal club"
    ]
    spanish = transcript(store, member, library=modules(), language="es")
    assert "Club de revista" in {row.activity_label for row in spanish.rows}


def test_the_xapi_statement_is_a_valid_completed_journal_club(store, member):
    made = list(xapi.statements(store.iter_chain(), base_url=BASE_URL, library=modules()))
    kinds = [s["object"].get("definition", {}).get("type", "") for s in made]
    [club] = [s for s, kind in zip(made, kinds, strict=True) if kind.endswith("/journal-club")]
    assert not list(validator().iter_errors(club))
    assert club["verb"]["id"] == "http://adlnet.gov/expapi/verbs/completed"
    assert club["object"]["id"] == f"{BASE_URL}/activities/journal-club%3Aclub-7"
    assert club["result"] == {"completion": True}


def test_pars_writes_the_club_as_its_own_activity(store, member):
    batch = pars_batch(store, store.iter_chain(), activity_ids={"sepsis-hour-1-bundle": "S-1"})
    lines = batch.text.rstrip("\n").split("\n")[1:]
    [club] = [line for line in lines if "\tjournal-club:club-7\t" in line]
    assert club.startswith(f"{ALICE.board_id}\t")
    assert club.endswith("\t03/12/2026\tAMA PRA Category 1 Credit\t1.00\tY")
    registered = pars_batch(
        store, store.iter_chain(), activity_ids={"journal-club:club-7": "JC-7"}
    ).text
    assert "\tJC-7\t03/12/2026\t" in registered


def test_the_badge_states_the_journal_club_criteria(store, member, tmp_path):
    key = badges.issuer_key(tmp_path / "instance")
    kid = badges.key_id(BASE_URL, key)
    issuer = badges.issuer_for(BASE_URL, "Bedside demo provider (not accredited)")
    [token] = badges.issue_badges(
        club_records(store),
        key=key,
        kid=kid,
        issuer=issuer,
        base_url=BASE_URL,
        library=modules(),
        issued_at=datetime(2026, 5, 1, tzinfo=UTC),
    )
    report = badges.verify_badge(
        token, badges.public_jwks(key, kid), now=datetime(2026, 6, 1, tzinfo=UTC)
    )
    assert report.ok, report.problems
    achievement = report.credential["credentialSubject"]["achievement"]
    assert "journal club" in achievement["description"]
    assert "reflection" in achievement["criteria"]["narrative"]
    assert json.loads(json.dumps(achievement))["creditsAvailable"] == 1.0


def test_the_certificate_designates_a_journal_club_activity(store, member):
    [record] = club_records(store)
    wording = Accreditation().designation(record.activity_type, record.credit_type, Decimal("1.00"))
    assert "designates this journal club activity for a maximum of 1.00" in wording

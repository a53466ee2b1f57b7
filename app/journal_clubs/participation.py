"""Posting a reflection and claiming its journal-club credit, in that order, exactly once.

The reflection and the claim are two writes in two stores, so a claim can fail (the ledger busy)
after its reflection was saved. Such a claim is settled later: on the member's next post in the
club, and by `bedside clubs settle` (cron); the ledger's idempotency key keeps the credit once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.journal_clubs.store import Club, JournalClubStore, parse_stamp
from app.ledger.credit import claim_journal_club_credit, journal_club_idempotency_key
from app.ledger.models import Submission
from app.ledger.rules import ClubParticipation, CreditPolicy
from app.ledger.store import LedgerStore


def settle_member(
    clubs: JournalClubStore,
    ledger: LedgerStore,
    policy: CreditPolicy,
    club: Club,
    member: str,
    topic_module: Mapping[str, Any] | None = None,
) -> Submission | None:
    """Claim a member's club credit when they reflected but no claim was recorded; else None."""
    if ledger.submission(journal_club_idempotency_key(club.club_id, member)) is not None:
        return None
    if not clubs.reflections(club.club_id, member):
        return None
    submission = claim_club_credit(clubs, ledger, policy, club, member, topic_module)
    return submission if submission.created else None


def settle_clubs(
    clubs: JournalClubStore,
    ledger: LedgerStore,
    policy: CreditPolicy,
    modules: Mapping[str, Mapping[str, Any]],
) -> int:
    """Settle every member's unrecorded club claim; return how many were recorded now."""
    settled = 0
    for club_id, member in clubs.reflecting_members():
        club = clubs.club(club_id)
        module = club_topic_module(club, modules)
        settled += settle_member(clubs, ledger, policy, club, member, module) is not None
    return settled


def club_topic_module(
    club: Club, modules: Mapping[str, Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The library's version of the club's module (None for a guideline or a version now gone)."""
    module = modules.get(club.topic) if club.topic_kind == "module" else None
    return module if module and str(module["version"]) == club.topic_version else None


def claim_club_credit(
    clubs: JournalClubStore,
    ledger: LedgerStore,
    policy: CreditPolicy,
    club: Club,
    member: str,
    topic_module: Mapping[str, Any] | None = None,
) -> Submission:
    """Claim a member's credit for the club from their reflections (idempotent per member)."""
    participation = ClubParticipation(
        club_id=club.club_id,
        opens_at=parse_stamp(club.opens_at),
        closes_at=parse_stamp(club.closes_at),
        reflections_at=tuple(
            parse_stamp(r.created_at) for r in clubs.reflections(club.club_id, member)
        ),
        topic_module=topic_module,
        facilitating=club.facilitator_id == member,
    )
    module_id = club.topic if club.topic_kind == "module" else None
    return claim_journal_club_credit(ledger, policy, member, participation, module_id=module_id)

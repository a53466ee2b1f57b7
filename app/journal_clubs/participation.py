"""Posting a reflection and claiming its journal-club credit, in that order, exactly once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.journal_clubs.store import Club, JournalClubStore, Reflection, parse_stamp
from app.ledger.credit import claim_journal_club_credit
from app.ledger.models import Submission
from app.ledger.rules import ClubParticipation, CreditPolicy
from app.ledger.store import LedgerStore


def reflect_for_credit(
    clubs: JournalClubStore,
    ledger: LedgerStore,
    policy: CreditPolicy,
    club_id: str,
    author_id: str,
    answers: tuple[str, str],
    now: datetime,
    topic_module: Mapping[str, Any] | None = None,
) -> tuple[Reflection, Submission]:
    """Post a member's reflection, then claim the club's credit (a replay after the first).

    `topic_module`: the library's version of the club's module (None for a guideline).
    """
    practice_change, barriers = answers
    reflection = clubs.reflect(club_id, author_id, practice_change, barriers, now)
    club = clubs.club(club_id)
    return reflection, claim_club_credit(clubs, ledger, policy, club, author_id, topic_module)


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

"""On PostgreSQL the journal club and teaching case stores run with only their printed grants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from app.case_conferences.store import CASE_CONFERENCE_SCHEMA, CaseConferenceStore
from app.database import Database, parse_database_url, role_script
from app.journal_clubs.store import JOURNAL_CLUB_SCHEMA, JournalClubStore

ROLE = "bedside_clubs"


def test_both_stores_run_as_an_application_role_with_only_the_printed_grants(postgres_url):
    owner = Database(parse_database_url(postgres_url))
    JournalClubStore(owner)
    CaseConferenceStore(owner)
    with owner.write() as connection:
        connection.execute(text(f"CREATE ROLE {ROLE} LOGIN"))
        connection.exec_driver_sql(role_script([JOURNAL_CLUB_SCHEMA, CASE_CONFERENCE_SCHEMA], ROLE))
    as_app = Database(parse_database_url(postgres_url.replace("://postgres@", f"://{ROLE}@")))
    try:
        clubs, cases = JournalClubStore(as_app), CaseConferenceStore(as_app)
        now = datetime.now(UTC)
        club_id = clubs.create_club(
            title="Sepsis club",
            facilitator_id="F1",
            topic_kind="module",
            topic="sepsis-hour-1-bundle",
            topic_version="2.0.0",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=1),
        )
        clubs.join(club_id, "L1")
        clubs.reflect(club_id, "L1", "Repeat lactate", "Night shifts", now)
        clubs.close(club_id, "F1", "Summary of the club", now)
        case_id = cases.draft("A1", "Urosepsis", "A woman with urosepsis on day 0.")
        cases.edit(case_id, "A1", "Urosepsis, edited", "A woman with urosepsis on day 0.")
        cases.submit(case_id, "A1")
        cases.review(case_id, "M1", approve=True, seen=cases.case(case_id).updated_at)
        assert cases.case(case_id).status == "approved"
        cases.draft("A1", "Urosepsis, again", "A man with urosepsis on day 0.")
        cases.delete_unapproved("A1")
        assert [case["case_id"] for case in cases.export("A1")] == [case_id]
        assert clubs.export("L1")["reflections"][0]["barriers"] == "Night shifts"
        assert clubs.club(club_id).closed_at is not None
    finally:
        as_app.dispose()
        with owner.write() as connection:
            connection.execute(text(f"DROP OWNED BY {ROLE}"))
            connection.execute(text(f"DROP ROLE {ROLE}"))
        owner.dispose()

"""Members report a club reflection; moderators hide it or mark it handled (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from app.collaboration.store import CollaborationStore
from app.database import SQLITE, Database, parse_database_url, role_script
from app.journal_clubs.store import JOURNAL_CLUB_SCHEMA, ClubNotFound, JournalClubStore

NOW = datetime.now(UTC)


@pytest.fixture
def clubs(database) -> JournalClubStore:
    """The journal club store (beside collaboration's, as in the app)."""
    CollaborationStore(database)
    return JournalClubStore(database)


def open_club(clubs: JournalClubStore, *members: str) -> str:
    """A sepsis club F1 facilitates, open now, with these members; its id."""
    club_id = clubs.create_club(
        title="Sepsis bundle, hour 1",
        facilitator_id="F1",
        topic_kind="module",
        topic="sepsis-hour-1-bundle",
        topic_version="2.0.0",
        opens_at=NOW - timedelta(days=1),
        closes_at=NOW + timedelta(days=6),
    )
    for member in members:
        clubs.join(club_id, member)
    return club_id


@pytest.fixture
def reflection_id(clubs) -> str:
    """A reflection L1 posted in a club L2 and L3 belong to."""
    club_id = open_club(clubs, "L1", "L2", "L3")
    return clubs.reflect(club_id, "L1", "Repeat lactate", "Night shifts", NOW).reflection_id


def listed(clubs: JournalClubStore) -> list[tuple[str, int]]:
    """The reported reflections on the moderation list, with their open reports."""
    return [(r.reflection_id, count) for r, count in clubs.reported_reflections()]


def handlings(database) -> list[tuple[str, str]]:
    """Who handled reflection reports and how, oldest first."""
    with database.read() as connection:
        query = "SELECT handled_by, action FROM club_reflection_handlings ORDER BY handled_at"
        return [tuple(row) for row in connection.execute(text(query)).all()]


def test_a_member_reports_a_reflection_once_and_an_outsider_cannot(clubs, reflection_id):
    assert clubs.report_reflection(reflection_id, "L2") is True
    assert clubs.report_reflection(reflection_id, "L2") is False  # once per member
    assert clubs.report_reflection(reflection_id, "L3") is True
    with pytest.raises(ClubNotFound):
        clubs.report_reflection(reflection_id, "stranger")
    with pytest.raises(ClubNotFound):
        clubs.report_reflection("no-such-reflection", "L2")
    assert listed(clubs) == [(reflection_id, 2)]
    assert clubs.reported_reflection_count() == 1


def test_marked_handled_a_reflection_leaves_the_list_until_reported_again(
    clubs, database, reflection_id
):
    clubs.report_reflection(reflection_id, "L2")
    clubs.dismiss_reports(reflection_id, "M1")
    assert listed(clubs) == [] and not clubs.reflection(reflection_id).hidden
    assert handlings(database) == [("M1", "dismissed")]
    clubs.report_reflection(reflection_id, "L2")
    assert listed(clubs) == [(reflection_id, 1)]


def test_a_hidden_reflection_is_handled_and_shown_to_its_author_alone(
    clubs, database, reflection_id
):
    club_id = clubs.reflection(reflection_id).club_id
    clubs.report_reflection(reflection_id, "L2")
    clubs.set_hidden(reflection_id, "M1", hidden=True)

    assert listed(clubs) == [] and handlings(database) == [("M1", "hidden")]
    assert clubs.reflections(club_id, shown_to="L2") == []
    assert clubs.reflection_count(club_id, shown_to="L2") == 0
    [own] = clubs.reflections(club_id, shown_to="L1")
    assert own.hidden and clubs.reflection_count(club_id, shown_to="L1") == 1
    assert len(clubs.reflections(club_id)) == 1  # a moderator's view: every reflection
    assert len(clubs.reflections(club_id, "L1")) == 1  # the author's credit still counts it
    clubs.set_hidden(reflection_id, "M1", hidden=False)
    assert [r.reflection_id for r in clubs.reflections(club_id, shown_to="L2")] == [reflection_id]


def test_the_export_holds_a_members_reports_and_never_who_hid_their_reflection(
    clubs, reflection_id
):
    clubs.report_reflection(reflection_id, "L2")
    clubs.set_hidden(reflection_id, "M1", hidden=True)
    assert [r["reflection_id"] for r in clubs.export("L2")["reports"]] == [reflection_id]
    [mine] = clubs.export("L1")["reflections"]
    assert mine["hidden_at"] and "hidden_by" not in mine
    assert "M1" not in str(clubs.export("L1"))


def forget_reflection_reports(database) -> None:
    """Take the database back to before reflections could be reported (as the old code left it)."""
    table = "_sqlite_migrations" if database.dialect == SQLITE else "bedside_migrations"
    with database.write() as connection:
        for statement in (
            "DROP TABLE club_reflection_reports",
            "DROP TABLE club_reflection_handlings",
            "ALTER TABLE club_reflections DROP COLUMN hidden_at",
            "ALTER TABLE club_reflections DROP COLUMN hidden_by",
        ):
            connection.execute(text(statement))
        connection.execute(
            text(f"DELETE FROM {table} WHERE migration_set = :set AND name = :name"),
            {"set": JOURNAL_CLUB_SCHEMA.name, "name": "add_reflection_reports"},
        )


def test_an_old_database_upgrades_in_place_with_its_reflections_shown(clubs, database):
    club_id = open_club(clubs, "L1", "L2")
    forget_reflection_reports(database)
    with database.write() as connection:  # a reflection as the old code saved it
        connection.execute(
            text(
                "INSERT INTO club_reflections (reflection_id, club_id, author_id,"
                " practice_change, barriers, created_at) VALUES ('r1', :club, 'L1',"
                " 'Repeat lactate', 'Night shifts', '2024-01-01T00:00:00.000000+00:00')"
            ),
            {"club": club_id},
        )

    assert database.migrate(JOURNAL_CLUB_SCHEMA) == ["add_reflection_reports"]

    [old] = clubs.reflections(club_id, shown_to="L2")
    assert old.reflection_id == "r1" and not old.hidden
    assert clubs.report_reflection("r1", "L2") is True
    assert listed(clubs) == [("r1", 1)]


ROLE = "bedside_clubs_moderation"


def test_reporting_and_moderating_run_with_only_the_printed_grants(postgres_url):
    owner = Database(parse_database_url(postgres_url))
    JournalClubStore(owner)
    with owner.write() as connection:
        connection.execute(text(f"CREATE ROLE {ROLE} LOGIN"))
        connection.exec_driver_sql(role_script([JOURNAL_CLUB_SCHEMA], ROLE))
    as_app = Database(parse_database_url(postgres_url.replace("://postgres@", f"://{ROLE}@")))
    try:
        clubs = JournalClubStore(as_app)
        club_id = open_club(clubs, "L1", "L2")
        reflection_id = clubs.reflect(club_id, "L1", "Repeat lactate", "Staff", NOW).reflection_id
        clubs.report_reflection(reflection_id, "L2")
        assert listed(clubs) == [(reflection_id, 1)]
        clubs.dismiss_reports(reflection_id, "M1")
        clubs.set_hidden(reflection_id, "M1", hidden=True)
        clubs.set_hidden(reflection_id, "M1", hidden=False)
        assert clubs.club_titles({club_id}) == {club_id: "Sepsis bundle, hour 1"}
        assert clubs.export("L2")["reports"][0]["reflection_id"] == reflection_id
    finally:
        as_app.dispose()
        with owner.write() as connection:
            connection.execute(text(f"DROP OWNED BY {ROLE}"))
            connection.execute(text(f"DROP ROLE {ROLE}"))
        owner.dispose()


def test_an_erased_reporters_reports_stay_counted_but_lead_back_to_nobody(
    clubs, reflection_id, database
):
    clubs.report_reflection(reflection_id, "L2")
    clubs.report_reflection(reflection_id, "L3")
    clubs.detach_reports("L2")
    with database.read() as connection:
        reporters = connection.execute(
            text("SELECT reporter_id FROM club_reflection_reports ORDER BY reporter_id")
        ).scalars()
        assert "L2" not in list(reporters)
    assert listed(clubs) == [(reflection_id, 2)]
    assert not clubs.export("L2")["reports"] and clubs.export("L3")["reports"]

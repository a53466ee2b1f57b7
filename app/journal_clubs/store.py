"""Journal clubs in the shared database (SQLite or PostgreSQL): clubs, members, reflections.

A club discusses one topic (a module, or a guideline citation) in an asynchronous window. Its
members are the ledger's opaque learner ids; they post structured reflections (what would change
in my practice; barriers) that pass the patient-data guard. Only members and the facilitator read
them. The facilitator closes the club with a summary; nothing is posted after that.
Members report a reflection to the moderators, who hide it or mark its reports handled, as they
do discussion posts (collaboration's `Reportable`); a hidden one is shown to its author alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, text
from sqlite_utils import Database as SqliteFile
from sqlite_utils.migrations import Migrations

from app.collaboration.posting import PAGE_SIZE, check_posting_budget
from app.collaboration.store import (
    DISMISSED,
    Reportable,
    add_report,
    detach_reports,
    handle_reports,
    reported_row_count,
    reported_rows,
    set_row_hidden,
)
from app.database import Database, StoreSchema
from app.ledger.privacy import check_text

migrations = Migrations("bedside.journal_clubs")
TOPIC_KINDS = ("module", "guideline")
CLUB_COLUMNS = (
    "club_id, title, facilitator_id, topic_kind, topic, topic_version, opens_at, closes_at,"
    " created_at, closed_at, summary"
)
REFLECTION_COLUMNS = (
    "reflection_id, club_id, author_id, practice_change, barriers, created_at, hidden_at, hidden_by"
)
REFLECTIONS = Reportable(
    "club_reflections",
    "reflection_id",
    REFLECTION_COLUMNS,
    "club_reflection_reports",
    "club_reflection_handlings",
)


class ClubError(Exception):
    """A club request that cannot be carried out (the message says why)."""


class ClubNotFound(ClubError):
    """No such club (or not one this learner may see)."""


class ClubClosed(ClubError):
    """The club's window is not open (not yet, or no longer), or the facilitator closed it."""


@migrations()
def create_journal_club_tables(db: SqliteFile) -> None:
    """Clubs, their members and their reflections."""
    db["club_clubs"].create(
        {
            "club_id": str,
            "title": str,
            "facilitator_id": str,
            "topic_kind": str,
            "topic": str,
            "topic_version": str,
            "opens_at": str,
            "closes_at": str,
            "created_at": str,
            "closed_at": str,
            "summary": str,
        },
        pk="club_id",
    )
    db["club_clubs"].create_index(["facilitator_id", "created_at"])
    db["club_members"].create(
        {"club_id": str, "learner_id": str, "joined_at": str}, pk=("club_id", "learner_id")
    )
    db["club_members"].create_index(["learner_id", "joined_at"])
    db["club_reflections"].create(
        {
            "reflection_id": str,
            "club_id": str,
            "author_id": str,
            "practice_change": str,
            "barriers": str,
            "created_at": str,
        },
        pk="reflection_id",
    )
    db["club_reflections"].create_index(["club_id", "created_at"])


@migrations()
def index_reflections_by_author(db: SqliteFile) -> None:
    """Count a member's recent reflections by an index (the posting budget)."""
    db["club_reflections"].create_index(["author_id", "created_at"])


@migrations()
def add_reflection_reports(db: SqliteFile) -> None:
    """Members report reflections; moderators hide them or mark the reports handled."""
    db["club_reflections"].add_column("hidden_at", str)
    db["club_reflections"].add_column("hidden_by", str)
    db["club_reflection_reports"].create(
        {"reflection_id": str, "reporter_id": str, "reported_at": str, "handling_id": str},
        pk=("reflection_id", "reporter_id"),
    )
    db["club_reflection_handlings"].create(
        {
            "handling_id": str,
            "reflection_id": str,
            "handled_by": str,
            "handled_at": str,
            "action": str,
        },
        pk="handling_id",
    )
    db["club_reflection_handlings"].create_index(["reflection_id", "handled_at"])


POSTGRESQL_STEPS = [
    (
        "create_journal_club_tables",
        """
        CREATE TABLE club_clubs (
            club_id TEXT PRIMARY KEY,
            title TEXT,
            facilitator_id TEXT,
            topic_kind TEXT,
            topic TEXT,
            topic_version TEXT,
            opens_at TEXT COLLATE "C",
            closes_at TEXT COLLATE "C",
            created_at TEXT COLLATE "C",
            closed_at TEXT,
            summary TEXT
        );
        CREATE INDEX idx_club_clubs_facilitator_id_created_at
            ON club_clubs (facilitator_id, created_at);
        CREATE TABLE club_members (
            club_id TEXT,
            learner_id TEXT,
            joined_at TEXT COLLATE "C",
            PRIMARY KEY (club_id, learner_id)
        );
        CREATE INDEX idx_club_members_learner_id_joined_at ON club_members (learner_id, joined_at);
        CREATE TABLE club_reflections (
            reflection_id TEXT PRIMARY KEY,
            club_id TEXT,
            author_id TEXT,
            practice_change TEXT,
            barriers TEXT,
            created_at TEXT COLLATE "C"
        );
        CREATE INDEX idx_club_reflections_club_id_created_at
            ON club_reflections (club_id, created_at)
        """,
    ),
    (
        "index_reflections_by_author",
        "CREATE INDEX idx_club_reflections_author_id_created_at"
        " ON club_reflections (author_id, created_at)",
    ),
    (
        "add_reflection_reports",
        """
        ALTER TABLE club_reflections ADD COLUMN hidden_at TEXT;
        ALTER TABLE club_reflections ADD COLUMN hidden_by TEXT;
        CREATE TABLE club_reflection_reports (
            reflection_id TEXT,
            reporter_id TEXT,
            reported_at TEXT,
            handling_id TEXT,
            PRIMARY KEY (reflection_id, reporter_id)
        );
        CREATE TABLE club_reflection_handlings (
            handling_id TEXT PRIMARY KEY,
            reflection_id TEXT,
            handled_by TEXT,
            handled_at TEXT COLLATE "C",
            action TEXT
        );
        CREATE INDEX idx_club_reflection_handlings_reflection_id_handled_at
            ON club_reflection_handlings (reflection_id, handled_at)
        """,
    ),
]
TABLES = (
    "club_clubs",
    "club_members",
    "club_reflections",
    "club_reflection_reports",
    "club_reflection_handlings",
)
JOURNAL_CLUB_SCHEMA = StoreSchema(
    "bedside.journal_clubs",
    migrations,
    POSTGRESQL_STEPS,
    # A handling of reports is only ever added. One tuple a table (see role_script).
    grants=(("SELECT, INSERT, UPDATE", TABLES[:4]), ("SELECT, INSERT", TABLES[4:])),
)


@dataclass(frozen=True)
class Club:
    """A journal club: its topic, window, facilitator and (once closed) summary."""

    club_id: str
    title: str
    facilitator_id: str
    topic_kind: str
    topic: str
    topic_version: str | None
    opens_at: str
    closes_at: str
    created_at: str
    closed_at: str | None
    summary: str | None

    def open_at(self, moment: datetime) -> bool:
        """Tell whether reflections may be posted at this moment."""
        return self.closed_at is None and self.opens_at <= stamp(moment) <= self.closes_at


@dataclass(frozen=True)
class Reflection:
    """A member's structured reflection (hidden by a moderator, or not)."""

    reflection_id: str
    club_id: str
    author_id: str
    practice_change: str
    barriers: str
    created_at: str
    hidden_at: str | None = None
    hidden_by: str | None = None

    @property
    def hidden(self) -> bool:
        """Tell whether a moderator hid the reflection."""
        return self.hidden_at is not None


class JournalClubStore:
    """Journal clubs for every worker and host."""

    def __init__(self, database: Database):
        self.database = database
        database.migrate(JOURNAL_CLUB_SCHEMA)

    def create_club(
        self,
        *,
        title: str,
        facilitator_id: str,
        topic_kind: str,
        topic: str,
        topic_version: str | None,
        opens_at: datetime,
        closes_at: datetime,
    ) -> str:
        """Create a club (its facilitator a member); return its id."""
        if topic_kind not in TOPIC_KINDS:
            raise ClubError(f"A club discusses a module or a guideline, not {topic_kind!r}.")
        if closes_at <= opens_at:
            raise ClubError("The discussion window must close after it opens.")
        check_text(title, "club title")
        check_text(topic, "club topic")
        club_id, now = uuid.uuid4().hex, stamp(datetime.now(UTC))
        values = {
            "club_id": club_id,
            "title": title,
            "facilitator_id": facilitator_id,
            "topic_kind": topic_kind,
            "topic": topic,
            "topic_version": topic_version,
            "opens_at": stamp(opens_at),
            "closes_at": stamp(closes_at),
            "now": now,
        }
        with self.database.write() as connection:
            connection.execute(
                text(
                    f"INSERT INTO club_clubs ({CLUB_COLUMNS}) VALUES (:club_id, :title,"
                    " :facilitator_id, :topic_kind, :topic, :topic_version, :opens_at,"
                    " :closes_at, :now, NULL, NULL)"
                ),
                values,
            )
            add_member(connection, club_id, facilitator_id, now)
        return club_id

    def club(self, club_id: str) -> Club:
        """One club; ClubNotFound if there is none."""
        with self.database.read() as connection:
            row = connection.execute(
                text(f"SELECT {CLUB_COLUMNS} FROM club_clubs WHERE club_id = :id"),
                {"id": club_id},
            ).first()
        if row is None:
            raise ClubNotFound(club_id)
        return Club(*row)

    def club_for_member(self, club_id: str, learner_id: str) -> Club:
        """A club its member (or facilitator) may read; ClubNotFound for anyone else."""
        club = self.club(club_id)
        if not self.is_member(club_id, learner_id):
            raise ClubNotFound(club_id)
        return club

    def is_member(self, club_id: str, learner_id: str) -> bool:
        """Tell whether the learner joined the club."""
        with self.database.read() as connection:
            return (
                connection.execute(
                    text(
                        "SELECT 1 FROM club_members WHERE club_id = :club AND learner_id = :learner"
                    ),
                    {"club": club_id, "learner": learner_id},
                ).first()
                is not None
            )

    def join(self, club_id: str, learner_id: str) -> bool:
        """Add a member (once); False when they already were one."""
        self.club(club_id)
        with self.database.write() as connection:
            return add_member(connection, club_id, learner_id, stamp(datetime.now(UTC)))

    def members(self, club_id: str) -> list[str]:
        """The club's members, in the order they joined."""
        with self.database.read() as connection:
            rows = connection.execute(
                text(
                    "SELECT learner_id FROM club_members WHERE club_id = :club"
                    " ORDER BY joined_at, learner_id"
                ),
                {"club": club_id},
            ).all()
        return [row[0] for row in rows]

    def clubs_of(self, learner_id: str) -> list[Club]:
        """The clubs a learner belongs to (or facilitates), newest first."""
        with self.database.read() as connection:
            rows = connection.execute(
                text(
                    f"SELECT {', '.join('c.' + c for c in CLUB_COLUMNS.split(', '))}"
                    " FROM club_clubs AS c JOIN club_members AS m ON m.club_id = c.club_id"
                    " WHERE m.learner_id = :learner ORDER BY c.created_at DESC"
                ),
                {"learner": learner_id},
            ).all()
        return [Club(*row) for row in rows]

    def detach_reports(self, learner_id: str) -> None:
        """A learner's erasure: their reflection reports stay counted, each without a reporter."""
        with self.database.write() as connection:
            detach_reports(connection, learner_id, REFLECTIONS)

    def export(self, learner_id: str) -> dict:
        """A learner's clubs as JSON values: memberships, reflections and clubs facilitated."""
        with self.database.read() as connection:
            memberships = connection.execute(
                text(
                    "SELECT m.club_id, c.title, m.joined_at FROM club_members AS m"
                    " JOIN club_clubs AS c ON c.club_id = m.club_id"
                    " WHERE m.learner_id = :learner ORDER BY m.joined_at, m.club_id"
                ),
                {"learner": learner_id},
            ).all()
            reflections = connection.execute(
                text(
                    f"SELECT {REFLECTION_COLUMNS} FROM club_reflections WHERE author_id = :learner"
                    " ORDER BY created_at, reflection_id"
                ),
                {"learner": learner_id},
            ).all()
            facilitated = connection.execute(
                text(
                    f"SELECT {CLUB_COLUMNS} FROM club_clubs WHERE facilitator_id = :learner"
                    " ORDER BY created_at, club_id"
                ),
                {"learner": learner_id},
            ).all()
            reports = connection.execute(
                text(
                    "SELECT reflection_id, reported_at FROM club_reflection_reports"
                    " WHERE reporter_id = :learner ORDER BY reported_at, reflection_id"
                ),
                {"learner": learner_id},
            ).all()
        return {
            "memberships": [dict(row._mapping) for row in memberships],
            "reflections": [reflection_data(Reflection(*row)) for row in reflections],
            "facilitated": [Club(*row).__dict__ for row in facilitated],
            "reports": [dict(row._mapping) for row in reports],
        }

    def reflect(
        self, club_id: str, author_id: str, practice_change: str, barriers: str, now: datetime
    ) -> Reflection:
        """Post a member's reflection while the window is open (PostingTooFast over the budget)."""
        check_text(practice_change, "reflection")
        check_text(barriers, "reflection")
        club = self.club_for_member(club_id, author_id)
        if not club.open_at(now):
            raise ClubClosed(club_id)
        reflection = Reflection(
            uuid.uuid4().hex, club_id, author_id, practice_change, barriers, stamp(now)
        )
        with self.database.write() as connection:
            check_posting_budget(connection, "club_reflections", author_id, now)
            inserted = connection.execute(
                text(
                    f"INSERT INTO club_reflections ({REFLECTION_COLUMNS}) SELECT :reflection_id,"
                    " :club_id, :author_id, :practice_change, :barriers, :created_at, NULL, NULL"
                    " WHERE EXISTS (SELECT 1 FROM club_clubs WHERE club_id = :club_id"
                    " AND closed_at IS NULL)"
                ),
                reflection.__dict__,
            ).rowcount
        if inserted != 1:  # the facilitator closed the club since it was read
            raise ClubClosed(club_id)
        return reflection

    def reflection_count(self, club_id: str, *, shown_to: str | None = None) -> int:
        """How many reflections the club has (those `shown_to` this member sees, if given)."""
        query = "SELECT count(*) FROM club_reflections WHERE club_id = :club"
        clause, values = shown_clause(shown_to)
        with self.database.read() as connection:
            return connection.execute(
                text(query + clause), {"club": club_id, **values}
            ).scalar_one()

    def reflections(
        self,
        club_id: str,
        author_id: str | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
        shown_to: str | None = None,
    ) -> list[Reflection]:
        """The club's reflections (or one member's), oldest first; a page of them with limit.

        Hidden ones too, unless `shown_to` names the member reading: then only their own.
        """
        clause, shown = shown_clause(shown_to)
        query = f"SELECT {REFLECTION_COLUMNS} FROM club_reflections WHERE club_id = :club{clause}"
        values: dict[str, object] = {"club": club_id, **shown}
        if author_id is not None:
            query += " AND author_id = :author"
            values["author"] = author_id
        query += " ORDER BY created_at, reflection_id"
        if limit is not None:
            query += " LIMIT :limit OFFSET :offset"
            values |= {"limit": limit, "offset": offset}
        with self.database.read() as connection:
            rows = connection.execute(text(query), values).all()
        return [Reflection(*row) for row in rows]

    def reflection(self, reflection_id: str) -> Reflection:
        """One reflection; ClubNotFound if there is none."""
        with self.database.read() as connection:
            row = connection.execute(
                text(
                    f"SELECT {REFLECTION_COLUMNS} FROM club_reflections WHERE reflection_id = :id"
                ),
                {"id": reflection_id},
            ).first()
        if row is None:
            raise ClubNotFound(reflection_id)
        return Reflection(*row)

    def hidden_reflections(self, *, limit: int = PAGE_SIZE, offset: int = 0) -> list[Reflection]:
        """A page of the hidden reflections, latest first (moderators restore them from there)."""
        with self.database.read() as connection:
            rows = connection.execute(
                text(
                    f"SELECT {REFLECTION_COLUMNS} FROM club_reflections WHERE hidden_at IS NOT NULL"
                    " ORDER BY hidden_at DESC, reflection_id LIMIT :limit OFFSET :offset"
                ),
                {"limit": limit, "offset": offset},
            ).all()
        return [Reflection(*row) for row in rows]

    def hidden_reflection_count(self) -> int:
        """How many reflections `hidden_reflections` lists, over all its pages."""
        with self.database.read() as connection:
            return connection.execute(
                text("SELECT COUNT(*) FROM club_reflections WHERE hidden_at IS NOT NULL")
            ).scalar_one()

    def report_reflection(self, reflection_id: str, reporter_id: str) -> bool:
        """A member flags a reflection for the moderators; False when their report is open."""
        reflection = self.reflection(reflection_id)
        self.club_for_member(reflection.club_id, reporter_id)
        with self.database.write() as connection:
            return add_report(connection, REFLECTIONS, reflection_id, reporter_id) is not None

    def reported_reflections(
        self, *, limit: int = PAGE_SIZE, offset: int = 0
    ) -> list[tuple[Reflection, int]]:
        """A page of the reflections with reports not yet handled, with how many, most first."""
        with self.database.read() as connection:
            rows = reported_rows(connection, REFLECTIONS, limit=limit, offset=offset)
        return [(Reflection(*row), count) for row, count in rows]

    def reported_reflection_count(self) -> int:
        """How many reflections `reported_reflections` lists, over all its pages."""
        with self.database.read() as connection:
            return reported_row_count(connection, REFLECTIONS)

    def dismiss_reports(self, reflection_id: str, moderator_id: str) -> None:
        """A moderator marks a reflection's reports handled, leaving it shown."""
        self.reflection(reflection_id)
        with self.database.write() as connection:
            handle_reports(connection, REFLECTIONS, reflection_id, moderator_id, DISMISSED)

    def set_hidden(self, reflection_id: str, moderator_id: str, *, hidden: bool) -> None:
        """Hide a reflection from the other members (handling its reports) or show it again."""
        self.reflection(reflection_id)
        with self.database.write() as connection:
            set_row_hidden(connection, REFLECTIONS, reflection_id, moderator_id, hidden=hidden)

    def club_titles(self, club_ids: Collection[str]) -> dict[str, str]:
        """The titles of these clubs, by id."""
        if not club_ids:
            return {}
        query = text("SELECT club_id, title FROM club_clubs WHERE club_id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        )
        with self.database.read() as connection:
            return dict(connection.execute(query, {"ids": sorted(set(club_ids))}).all())

    def reflecting_members(self) -> list[tuple[str, str]]:
        """Every (club, member) pair with at least one reflection."""
        with self.database.read() as connection:
            rows = connection.execute(
                text(
                    "SELECT DISTINCT club_id, author_id FROM club_reflections"
                    " ORDER BY club_id, author_id"
                )
            ).all()
        return [(club_id, author_id) for club_id, author_id in rows]

    def close(self, club_id: str, facilitator_id: str, summary: str, now: datetime) -> None:
        """The facilitator closes the club with a summary (once)."""
        check_text(summary, "club summary")
        club = self.club(club_id)
        if club.facilitator_id != facilitator_id:
            raise ClubNotFound(club_id)
        if club.closed_at is not None:
            raise ClubClosed(club_id)
        with self.database.write() as connection:
            closed = connection.execute(
                text(
                    "UPDATE club_clubs SET closed_at = :now, summary = :summary"
                    " WHERE club_id = :club AND closed_at IS NULL"
                ),
                {"now": stamp(now), "summary": summary, "club": club_id},
            ).rowcount
        if closed != 1:  # closed at the same time elsewhere: that summary stands, not this one
            raise ClubClosed(club_id)


def shown_clause(reader: str | None) -> tuple[str, dict[str, str]]:
    """The condition and values that keep to what a member reads (all when reader is None)."""
    if reader is None:
        return "", {}
    return " AND (hidden_at IS NULL OR author_id = :reader)", {"reader": reader}


def reflection_data(reflection: Reflection) -> dict:
    """A reflection its author wrote, as JSON values for their data export (not who hid it)."""
    data = dict(reflection.__dict__)
    del data["hidden_by"]
    return data


def add_member(connection, club_id: str, learner_id: str, now: str) -> bool:
    """Insert a membership once; True when it is new."""
    result = connection.execute(
        text(
            "INSERT INTO club_members (club_id, learner_id, joined_at)"
            " VALUES (:club, :learner, :now) ON CONFLICT DO NOTHING"
        ),
        {"club": club_id, "learner": learner_id, "now": now},
    )
    return result.rowcount == 1


def stamp(moment: datetime) -> str:
    """A moment in UTC as sortable ISO 8601 text."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_stamp(value: str) -> datetime:
    """A stored moment back as an aware datetime."""
    return datetime.fromisoformat(value)
